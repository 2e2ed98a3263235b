"""Fit, calibrate and judge: LightGBM on the earlier snapshots, a calibration fitted on half of the
latest snapshot's users, metrics on the other half against a recency-only baseline fitted the same way.

The split is by time (train on earlier cutoffs, validate on the latest), and the validation users
are split once more so the calibration is never judged on the rows it was fitted on.
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


@dataclass
class BoostingParams:
    num_boost_round: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 20
    seed: int = 42
    calibration: Literal["auto", "isotonic", "platt"] = "auto"


@dataclass
class Fitted:
    booster: Any  # lightgbm.Booster
    calibrator: Calibrator
    metrics: dict[str, Any]
    population_rate: float
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
    calib_mask = rng.random(len(valid.labels)) < 0.5
    if calib_mask.all() or not calib_mask.any():
        calib_mask[: len(calib_mask) // 2] = ~calib_mask[0]
    stop_mask = rng.random(len(y)) < 0.15  # early stopping watches a slice of the training rows
    booster_params = {"objective": "binary", "learning_rate": params.learning_rate, "num_leaves": params.num_leaves,
                      "min_data_in_leaf": params.min_data_in_leaf, "seed": params.seed, "verbose": -1,
                      "num_threads": 2, "deterministic": True, "force_row_wise": True}
    train_set = lgb.Dataset(x[~stop_mask], y[~stop_mask], feature_name=names, categorical_feature=categorical,
                            free_raw_data=False)
    stop_set = lgb.Dataset(x[stop_mask], y[stop_mask], reference=train_set)
    callbacks: list[Any] = [lgb.early_stopping(20, verbose=False)]
    if on_round is not None:
        callbacks.append(lambda env: on_round(env.iteration, params.num_boost_round))
    booster = lgb.train(booster_params, train_set, num_boost_round=params.num_boost_round,
                        valid_sets=[stop_set], callbacks=callbacks)
    booster.free_dataset()
    raw = booster.predict(valid.features, num_iteration=booster.best_iteration or None)
    calibrator = calibration.fit(raw[calib_mask], valid.labels[calib_mask], params.calibration)
    baseline = _recency_baseline(x, y, valid.features, names)
    baseline_calibrator = calibration.fit(baseline[calib_mask], valid.labels[calib_mask], params.calibration)
    test = ~calib_mask
    model_p = calibrator.apply(raw[test])
    baseline_p = baseline_calibrator.apply(baseline[test])
    metrics = _metrics(valid.labels[test], model_p, baseline_p)
    metrics.update({"train_rows": int(len(y)), "validation_rows": int(len(valid.labels)),
                    "calibration_rows": int(calib_mask.sum()), "calibration_method": calibrator.method,
                    "best_iteration": int(booster.best_iteration or params.num_boost_round)})
    typical = {name: _median(x[:, j]) for j, name in enumerate(names)}
    return Fitted(booster, calibrator, metrics, float(y.mean()), typical)


def _median(column: np.ndarray) -> float:
    finite = column[np.isfinite(column)]
    return float(np.median(finite)) if finite.size else float("nan")


def _recency_baseline(x: np.ndarray, y: np.ndarray, x_valid: np.ndarray, names: list[str]) -> np.ndarray:
    """A one-feature logistic model on log(1 + days since the last event), fitted on the training rows."""
    from sklearn.linear_model import LogisticRegression

    column = names.index("days_since_last")
    model = LogisticRegression().fit(np.log1p(np.nan_to_num(x[:, [column]], nan=0.0)), y)
    return model.predict_proba(np.log1p(np.nan_to_num(x_valid[:, [column]], nan=0.0)))[:, 1]


def _metrics(labels: np.ndarray, model_p: np.ndarray, baseline_p: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = 0 < labels.sum() < len(labels)
    out: dict[str, Any] = {"positive_rate": round(float(labels.mean()), 6), "test_rows": int(len(labels))}
    for prefix, p in (("", model_p), ("baseline_", baseline_p)):
        out[f"{prefix}roc_auc"] = round(float(roc_auc_score(labels, p)), 6) if both else None
        out[f"{prefix}pr_auc"] = round(float(average_precision_score(labels, p)), 6) if both else None
        out[f"{prefix}brier"] = round(calibration.brier(p, labels), 6)
    if out["roc_auc"] is not None and out["baseline_roc_auc"]:
        out["roc_auc_ratio"] = round(out["roc_auc"] / out["baseline_roc_auc"], 4)
    if out["baseline_brier"]:
        out["brier_ratio"] = round(out["brier"] / out["baseline_brier"], 4)
    out["reliability"] = calibration.reliability(model_p, labels)
    return out
