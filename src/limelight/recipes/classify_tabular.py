"""``classify/lightgbm``: a LightGBM classifier on a ``tabular`` dataset, e.g. churn.

Numbers and booleans are features as they are, text columns are LightGBM categoricals (their
category lists go with the version, see ``runtimes.tabular_features``); columns that cannot help are
left out and listed with the reason. The model is saved as LightGBM's text format (no pickle) and
evaluated on a stratified holdout; the version carries each feature's importance (gain) by name.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult
from limelight.runtimes.tabular_features import FeatureSpec, spec_from_table


class LightGBMParams(RecipeParams):
    target: str = Field("target", description="column holding the label")
    num_boost_round: int = Field(200, ge=1, le=10_000, description="boosting rounds (upper bound with early stopping)")
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(31, ge=2, le=4096)
    holdout_fraction: float = Field(0.2, gt=0, lt=0.9, description="share of rows kept for evaluation")
    seed: int = 42


class LightGBMClassifierRecipe:
    name: ClassVar[str] = "classify/lightgbm"
    task: ClassVar[str] = "classify"
    dataset_kind: ClassVar[str] = "tabular"
    description: ClassVar[str] = "Gradient-boosted trees (LightGBM) for churn or any tabular label."
    Params: ClassVar[type[RecipeParams]] = LightGBMParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        import lightgbm as lgb
        from sklearn.model_selection import train_test_split

        assert isinstance(params, LightGBMParams)
        spec, features, labels, classes, left_out = _load(ctx, params.target)
        names = spec.names
        ctx.log(f"{len(labels)} rows, {len(names)} features ({len(spec.categorical_names)} categorical), "
                f"{len(classes)} classes")
        for column in left_out:
            ctx.log(f"column {column['column']!r} left out: {column['reason']}", level="warning")
        stratify = labels if min(np.bincount(labels)) >= 2 else None
        x_train, x_test, y_train, y_test = train_test_split(
            features, labels, test_size=params.holdout_fraction, random_state=params.seed, stratify=stratify)
        binary = len(classes) == 2
        booster_params = {"objective": "binary" if binary else "multiclass", "learning_rate": params.learning_rate,
                          "num_leaves": params.num_leaves, "seed": params.seed, "verbose": -1, "num_threads": 2}
        if not binary:
            booster_params["num_class"] = len(classes)
        train_set = lgb.Dataset(x_train, y_train, feature_name=names,
                                categorical_feature=spec.categorical_names or "auto")
        valid_set = lgb.Dataset(x_test, y_test, reference=train_set)
        booster = lgb.train(booster_params, train_set, num_boost_round=params.num_boost_round,
                            valid_sets=[valid_set], callbacks=[_progress_callback(ctx, params.num_boost_round),
                                                               lgb.early_stopping(20, verbose=False)])
        metrics: dict[str, Any] = _evaluate(booster, x_test, y_test, binary)
        ctx.log(f"holdout metrics: {metrics}")
        gains = booster.feature_importance(importance_type="gain", iteration=booster.best_iteration or None)
        metrics["feature_importance"] = {n: round(float(g), 4) for n, g in sorted(
            zip(names, gains, strict=True), key=lambda pair: -pair[1])}
        booster.save_model(str(ctx.output_path(".txt")))
        signature = {
            "inputs": [{"name": "features", "dtype": "float64", "shape": [-1, len(names)], "names": names,
                        "categories": {f.name: list(f.categories) for f in spec.features if f.categories}}],
            "outputs": [{"name": "probabilities", "dtype": "float64", "shape": [-1, len(classes)]}],
            "classes": classes,
        }
        # the runtime encodes named inputs from "features" (the categories in training's order)
        example_row = next((r for r in (spec.named_row(row) for row in x_test[:50]) if r is not None), None)
        return RecipeResult(runtime="lightgbm", format="lightgbm", metrics=metrics, signature=signature,
                            params={**params.model_dump(), "features": spec.to_params()}, gate_metric="accuracy",
                            summary={"features": names, "left_out": left_out},
                            example={"verb": "predict", "body": {"inputs": [example_row]}} if example_row else None,
                            limitations=_limitations(labels, classes, len(y_test), left_out))


def _limitations(labels: np.ndarray, classes: list[str], holdout: int, left_out: list[dict[str, Any]]) -> list[str]:
    """What the card must say this model cannot do, from what training saw."""
    found = [f"Column `{c['column']}` was not used: {c['reason']}." for c in left_out]
    counts = np.bincount(labels, minlength=len(classes))
    found += [f"Class `{classes[i]}` is {counts[i] / len(labels):.1%} of the rows: its scores are the least reliable."
              for i in range(len(classes)) if counts[i] / len(labels) < 0.05]
    if holdout < 200:
        found.append(f"The metrics come from a holdout of only {holdout} rows: expect them to move on new data.")
    found.append("Inputs outside the ranges and categories seen in training are extrapolated (an unseen category "
                 "counts as missing).")
    return found


def _load(ctx: JobContext, target: str) -> tuple[FeatureSpec, np.ndarray, np.ndarray, list[str],
                                                  list[dict[str, str]]]:
    import pyarrow.parquet as pq

    table = pq.read_table(ctx.dataset_path())
    if target not in table.column_names:
        raise InvalidParams(f"The dataset has no target column {target!r}.",
                            details={"field": "params.target", "columns": table.column_names})
    spec, features, left_out = spec_from_table(table, target)
    raw_labels = [str(v) for v in table.column(target).to_pylist()]
    classes = sorted(set(raw_labels))
    if len(classes) < 2:
        raise InvalidParams("The target needs at least two classes.", details={"classes": classes})
    index = {c: i for i, c in enumerate(classes)}
    labels = np.array([index[v] for v in raw_labels], dtype=np.int64)
    return spec, features, labels, classes, left_out


def _progress_callback(ctx: JobContext, rounds: int) -> Any:
    def callback(env: Any) -> None:
        if env.iteration % 10 == 0:
            ctx.check_cancelled()
            ctx.progress(5 + 90 * env.iteration / rounds, f"boosting round {env.iteration}")

    return callback


def _evaluate(booster: Any, x_test: np.ndarray, y_test: np.ndarray, binary: bool) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    proba = booster.predict(x_test, num_iteration=booster.best_iteration or None)
    if binary:
        predicted = (proba >= 0.5).astype(int)
        full = np.column_stack([1 - proba, proba])
        metrics = {"roc_auc": float(roc_auc_score(y_test, proba))}
    else:
        predicted = proba.argmax(axis=1)
        full = proba
        metrics = {"f1_macro": float(f1_score(y_test, predicted, average="macro"))}
    metrics["accuracy"] = float(accuracy_score(y_test, predicted))
    metrics["log_loss"] = float(log_loss(y_test, full, labels=list(range(full.shape[1]))))
    metrics["holdout_rows"] = int(len(y_test))
    return metrics
