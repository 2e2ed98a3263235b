"""Tabular models a marketer can use: text columns as LightGBM categoricals, named-feature inputs,
problems reported by feature name, unseen categories served, useless columns left out with why."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from limelight.errors import ValidationFailed
from limelight.recipes import get_recipe
from limelight.runtimes import LoadContext, load_runtime
from limelight.runtimes.tabular_features import FeatureSpec, spec_from_table
from tests.support.local_context import LocalJobContext

PLANS = ("basic", "family", "premium")


def churn_table(rows: int = 600, seed: int = 0) -> pa.Table:
    """Churn decided mostly by the plan (a text column); tenure helps a little; a per-row id and a
    constant column carry nothing."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(PLANS, size=rows)
    tenure = rng.integers(1, 60, size=rows)
    churn_rate = np.select([plan == "basic", plan == "family"], [0.8, 0.1], 0.4) - tenure / 600
    churned = rng.random(rows) < churn_rate
    return pa.table({"customer": [f"c{i:05d}" for i in range(rows)], "plan": plan.tolist(),
                     "tenure": tenure.astype(float), "region": ["eu"] * rows,
                     "target": ["yes" if c else "no" for c in churned]})


def test_text_columns_become_categories_and_useless_columns_are_left_out_with_the_reason() -> None:
    spec, matrix, left_out = spec_from_table(churn_table(), "target")
    assert spec.names == ["plan", "tenure"] and spec.categorical_names == ["plan"]
    assert spec.features[0].categories == PLANS
    assert matrix.shape == (600, 2) and set(np.unique(matrix[:, 0])) == {0.0, 1.0, 2.0}
    reasons = {c["column"]: c["reason"] for c in left_out}
    assert "identifier" in reasons["customer"] and "constant" in reasons["region"]


def test_named_rows_encode_like_training_and_problems_are_named() -> None:
    spec = FeatureSpec.from_params([{"name": "plan", "categories": list(PLANS)}, {"name": "tenure"}])
    assert spec.encode({"tenure": 3, "plan": "family"}) == [1.0, 3.0]
    assert spec.encode(["premium", 12]) == [2.0, 12.0]
    unseen = spec.encode({"plan": "student", "tenure": 5})
    assert math.isnan(unseen[0]) and unseen[1] == 5.0  # unseen category: missing, not an error
    assert math.isnan(spec.encode({"plan": None, "tenure": 1})[0])
    with pytest.raises(ValidationFailed) as refused:
        spec.encode({"plan": "basic", "age": 40})
    problems = refused.value.details["problems"]
    assert {"field": "age", "reason": "unknown_feature"} in problems
    assert {"field": "tenure", "reason": "missing_feature"} in problems
    with pytest.raises(ValidationFailed) as mistyped:
        spec.encode({"plan": "basic", "tenure": "long"})
    assert mistyped.value.details["field"] == "tenure" and "expects a number" in mistyped.value.message


def test_the_recipe_uses_the_categorical_signal_and_the_runtime_serves_named_features(tmp_path: Path) -> None:
    pq.write_table(churn_table(), tmp_path / "churn.parquet")
    ctx = LocalJobContext(tmp_path, {"main": tmp_path / "churn.parquet"})
    recipe = get_recipe("classify/lightgbm")
    result = recipe.run(ctx, recipe.Params.model_validate({"num_boost_round": 60}))
    importance = result.metrics["feature_importance"]
    assert list(importance) == ["plan", "tenure"] and importance["plan"] > 0
    assert result.metrics["roc_auc"] > 0.75
    assert {c["column"] for c in result.summary["left_out"]} == {"customer", "region"}
    assert any("customer" in message and "left out" in message for _, message in ctx.logs)
    runtime = load_runtime("lightgbm", ctx.output_path(".txt"), result.params, LoadContext())
    rows = [runtime.validate_input({"plan": plan, "tenure": 30}) for plan in ("basic", "family")]
    basic, family = runtime.predict_batch(rows)
    assert basic > family  # "yes" (churn) is class 1: the basic plan churns far more
    assert runtime.signature()["inputs"][0]["categories"] == {"plan": list(PLANS)}


def test_a_booster_without_feature_names_still_takes_numbers(tmp_path: Path) -> None:
    import lightgbm as lgb

    x = np.random.default_rng(1).normal(size=(200, 3))
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, (x[:, 0] > 0).astype(int)), 5)
    booster.save_model(str(tmp_path / "model.txt"))
    runtime = load_runtime("lightgbm", tmp_path / "model.txt", {}, LoadContext())
    assert len(runtime.predict_batch([runtime.validate_input([0.1, 0.2, 0.3])])) == 1
    with pytest.raises(ValidationFailed):
        runtime.validate_input({"a": 1})


def test_a_number_may_be_missing_at_serving_only_where_training_had_missing_numbers() -> None:
    table = churn_table(rows=60)
    complete, _, _ = spec_from_table(table, "target")
    spec = FeatureSpec.from_params(complete.to_params())  # as stored on the version
    with pytest.raises(ValidationFailed) as refused:
        spec.encode({"plan": "basic", "tenure": None})
    assert refused.value.details["problems"] == [{"field": "tenure", "reason": "missing_value"}]
    assert math.isnan(spec.encode({"plan": None, "tenure": 4})[0])  # a category may always be missing
    tenure = table.column("tenure").to_pylist()
    gappy = table.set_column(2, "tenure", pa.array([None, *tenure[1:]], pa.float64()))
    with_gaps, matrix, _ = spec_from_table(gappy, "target")
    assert math.isnan(matrix[0, 1])
    assert math.isnan(FeatureSpec.from_params(with_gaps.to_params()).encode({"plan": "basic", "tenure": None})[1])
