"""Fit, calibrate and judge: LightGBM on the earlier snapshots, calibrated and judged on the latest
snapshot's users against a recency-only baseline treated the same way.

The split is by time (train on earlier cutoffs, validate on the latest). The validation users are
split in two halves and the calibration is cross-fitted: fitted on one half, applied to the other,
so every validation user is scored by a calibration that never saw them, and the metrics cover all
of them. The calibration that ships is then fitted on every validation user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from limelight.behaviour import calibration
from limelight.behaviour.calibration import Calibrator
from limelight.behaviour.snapshots import Snapshot
from limelight.errors import ValidationFailed

STOP_FRACTION = 0.2


@dataclass
class BoostingParams:
    num_boost_round: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    seed: int = 42
    calibration: Literal["auto", "isotonic", "platt"] = "auto"
    monotone: dict[str, int] | None = None  # feature -> +1 (never lowers the risk) / -1


@dataclass
class RecencyPrior:
    """``logit p = slope * log(1 + days since the last event) + intercept``: the recency-only model.
    Boosting starts from it, so the trees only learn what recency alone does not already say."""

    slope: float
    intercept: float
    reference: float  # the prior's logit at the training rows' median recency: its share of the bias

    def logit(self, days_since_last: np.ndarray) -> np.ndarray:
        return self.slope * np.log1p(np.nan_to_num(np.asarray(days_since_last, np.float64), nan=0.0)) + self.intercept

    def to_json(self) -> dict[str, float]:
        return {"slope": self.slope, "intercept": self.intercept, "reference": self.reference}

    @classmethod
    def fit(cls, days_since_last: np.ndarray, labels: np.ndarray) -> RecencyPrior:
        from sklearn.linear_model import LogisticRegression

        days = np.log1p(np.nan_to_num(days_since_last, nan=0.0)).reshape(-1, 1)
        model = LogisticRegression().fit(days, labels)
        prior = cls(float(model.coef_[0, 0]), float(model.intercept_[0]), 0.0)
        prior.reference = float(prior.logit(np.array([np.nanmedian(days_since_last)]))[0])
        return prior


@dataclass
class Fitted:
    booster: Any  # lightgbm.Booster
    prior: RecencyPrior
    calibrator: Calibrator
    metrics: dict[str, Any]
    population_rate: float  # the latest (validation) snapshot's positive rate: a user we know nothing about
    typical: dict[str, float]  # per feature, its median over the training rows


def _need_both_classes(labels: np.ndarray, what: str) -> None:
    positives = int(labels.sum())
    if positives == 0 or positives == len(labels):
        raise ValidationFailed(
            f"The {what} rows have a single label ({positives} of {len(labels)} positive): choose another cutoff "
            f"or horizon so that both outcomes occur.",
            details={"field": "params.cutoff", "rows": int(len(labels)), "positives": positives})


def fit(train: list[Snapshot], valid: Snapshot, names: list[str], categorical: list[str], params: BoostingParams,
        on_round: Callable[[int, int], None] | None = None) -> Fitted:
    import lightgbm as lgb

    x = np.vstack([s.features for s in train])
    y = np.concatenate([s.labels for s in train])
    _need_both_classes(y, "training")
    _need_both_classes(valid.labels, "validation")
    rng = np.random.default_rng(params.seed)
    half = rng.random(len(valid.labels)) < 0.5
    if half.all() or not half.any():
        half[: len(half) // 2] = ~half[0]
    # early stopping watches a slice of the training users (all their snapshots: a user seen on both
    # sides would make the slice look easier than new users are)
    train_users = sorted({u for s in train for u in s.users})
    watched = {u for u, r in zip(train_users, rng.random(len(train_users)), strict=True) if r < STOP_FRACTION}
    stop_mask = np.array([u in watched for s in train for u in s.users], dtype=bool)
    booster_params = {"objective": "binary", "learning_rate": params.learning_rate, "num_leaves": params.num_leaves,
                      "min_data_in_leaf": params.min_data_in_leaf, "seed": params.seed, "verbose": -1,
                      "num_threads": 2, "deterministic": True, "force_row_wise": True}
    if params.monotone:
        booster_params["monotone_constraints"] = [params.monotone.get(name, 0) for name in names]
    recency = names.index("days_since_last")
    prior = RecencyPrior.fit(x[:, recency], y)
    offset = prior.logit(x[:, recency])
    train_set = lgb.Dataset(x[~stop_mask], y[~stop_mask], feature_name=names, categorical_feature=categorical,
                            init_score=offset[~stop_mask], free_raw_data=False)
    stop_set = lgb.Dataset(x[stop_mask], y[stop_mask], init_score=offset[stop_mask], reference=train_set)
    callbacks: list[Any] = [lgb.early_stopping(20, verbose=False)]
    if on_round is not None:
        callbacks.append(lambda env: on_round(env.iteration, params.num_boost_round))
    booster = lgb.train(booster_params, train_set, num_boost_round=params.num_boost_round,
                        valid_sets=[stop_set], callbacks=callbacks)
    booster.free_dataset()
    raw = margin(booster, prior, valid.features, recency, booster.best_iteration or None)
    baseline = prior.logit(valid.features[:, recency])  # the recency-only model, on its own
    model_p = _cross_fitted(raw, valid.labels, half, params.calibration)
    baseline_p = _cross_fitted(baseline, valid.labels, half, params.calibration)
    calibrator = calibration.fit(raw, valid.labels, params.calibration)
    metrics = _metrics(valid.labels, (raw, model_p), (baseline, baseline_p))
    metrics.update({"train_rows": int(len(y)), "validation_rows": int(len(valid.labels)),
                    "calibration_method": calibrator.method, "calibration": "cross-fitted on two halves",
                    "best_iteration": int(booster.best_iteration or params.num_boost_round)})
    typical = {name: _median(x[:, j]) for j, name in enumerate(names)}
    return Fitted(booster, prior, calibrator, metrics, float(valid.labels.mean()), typical)


def margin(booster: Any, prior: RecencyPrior, x: np.ndarray, recency: int, num_iteration: int | None = None) -> np.ndarray:
    """The model's log-odds: the recency prior plus the trees (calibration maps it to a probability)."""
    return prior.logit(x[:, recency]) + booster.predict(x, raw_score=True, num_iteration=num_iteration)


def _cross_fitted(scores: np.ndarray, labels: np.ndarray, half: np.ndarray, method: Any) -> np.ndarray:
    """Each half's probabilities from a calibration fitted on the other half."""
    out = np.empty(len(scores))
    for fit_on in (half, ~half):
        if np.unique(labels[fit_on]).size < 2:  # one class: nothing to map from, use the half's rate
            out[~fit_on] = labels[fit_on].mean()
            continue
        out[~fit_on] = calibration.fit(scores[fit_on], labels[fit_on], method).apply(scores[~fit_on])
    return out


def _median(column: np.ndarray) -> float:
    finite = column[np.isfinite(column)]
    return float(np.median(finite)) if finite.size else float("nan")


def _metrics(labels: np.ndarray, model: tuple[np.ndarray, np.ndarray],
             baseline: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Ranking (ROC/PR AUC) on the raw scores, which a monotone calibration must not change (an
    isotonic map's ties would); Brier and the reliability curve on the calibrated probabilities."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = 0 < labels.sum() < len(labels)
    out: dict[str, Any] = {"positive_rate": round(float(labels.mean()), 6), "test_rows": int(len(labels))}
    for prefix, (scores, p) in (("", model), ("baseline_", baseline)):
        out[f"{prefix}roc_auc"] = round(float(roc_auc_score(labels, scores)), 6) if both else None
        out[f"{prefix}pr_auc"] = round(float(average_precision_score(labels, scores)), 6) if both else None
        out[f"{prefix}brier"] = round(calibration.brier(p, labels), 6)
    if out["roc_auc"] is not None and out["baseline_roc_auc"]:
        out["roc_auc_ratio"] = round(out["roc_auc"] / out["baseline_roc_auc"], 4)
    if out["baseline_brier"]:
        out["brier_ratio"] = round(out["brier"] / out["baseline_brier"], 4)
    out["reliability"] = calibration.reliability(model[1], labels)
    return out
