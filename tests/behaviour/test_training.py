"""The churn recipe end to end in-process: time split, calibration, metrics against the recency
baseline, the artifact round trip, request-time features equal to training-time ones, scoring."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from limelight.behaviour import calibration
from limelight.behaviour.artifact import load
from limelight.behaviour.features import FeatureSpec
from limelight.behaviour.history import from_table
from limelight.behaviour.snapshots import snapshot
from limelight.runtimes.base import LoadContext, load_runtime


def test_metrics_compare_the_model_with_a_recency_baseline(trained_churn):
    metrics = trained_churn.result.metrics
    for name in ("roc_auc", "pr_auc", "brier", "baseline_roc_auc", "baseline_pr_auc", "baseline_brier"):
        assert 0 <= metrics[name] <= 1, name
    assert metrics["roc_auc"] > 0.75  # fading users are easy to spot even with 25 rounds
    assert metrics["test_rows"] == metrics["validation_rows"]  # cross-fitted: every validation user is scored
    bins = metrics["reliability"]
    assert sum(b["rows"] for b in bins) == metrics["test_rows"]
    assert all(b["low"] <= b["predicted"] <= b["high"] for b in bins)
    assert trained_churn.result.runtime == "behaviour" and trained_churn.result.format == "npz"
    assert trained_churn.ctx.metrics and trained_churn.ctx.metrics[0]["roc_auc"] == metrics["roc_auc"]


def test_training_cutoffs_come_before_the_validation_cutoff(trained_churn):
    meta = load(trained_churn.artifact).metadata
    horizon_s = meta["horizon_days"] * 86_400
    assert meta["training_cutoffs"] and all(c + horizon_s <= meta["cutoff"] for c in meta["training_cutoffs"])
    assert meta["cutoff"] + horizon_s <= meta["history_end"] + 86_400


def test_calibration_maps_are_monotone_and_judged_by_brier():
    rng = np.random.default_rng(0)
    scores = rng.random(500)
    labels = (rng.random(500) < scores**2).astype(int)  # over-confident raw scores
    for method in ("isotonic", "platt"):
        fitted = calibration.fit(scores, labels, method)  # type: ignore[arg-type]
        grid = np.linspace(0, 1, 50)
        assert (np.diff(fitted.apply(grid)) >= -1e-12).all()
        assert calibration.brier(fitted.apply(scores), labels) < calibration.brier(scores, labels)
        again = calibration.Calibrator.from_json(fitted.to_json())
        assert np.allclose(again.apply(grid), fitted.apply(grid))
    assert calibration.fit(scores[:50], labels[:50], "auto").method == "platt"
    assert calibration.fit(scores, labels, "auto").method == "isotonic"


def test_request_time_features_equal_training_time_features(trained_churn, tmp_path):
    import pyarrow.parquet as pq

    runtime = load_runtime("behaviour", trained_churn.artifact, {}, LoadContext())
    meta = runtime.artifact.metadata
    histories = from_table(pq.read_table(trained_churn.ctx.dataset_path()))
    users = pq.read_table(trained_churn.ctx.dataset_path("users")).to_pylist()
    profiles = {u.pop("user_id"): u for u in users}
    spec = FeatureSpec.from_json(meta["feature_spec"])
    snap = snapshot(histories, meta["cutoff"], meta["horizon_days"], "churn", spec, profiles)
    assert spec.categorical() == ["profile.plan"] and "profile.age" in spec.names()
    for row, user in enumerate(snap.users[:40]):
        served, has_history = runtime.features(user, meta["cutoff"])
        assert has_history
        expected = snap.features[row]
        got = np.array([served[name] for name in runtime.names])
        assert np.array_equal(np.isnan(expected), np.isnan(got)) and np.allclose(expected[~np.isnan(expected)],
                                                                                  got[~np.isnan(got)]), user


def test_prediction_has_reasons_in_words_and_a_no_history_user_gets_the_population_rate(trained_churn):
    runtime = load_runtime("behaviour", trained_churn.artifact, {}, LoadContext())
    user = runtime.known_users()[0]
    known, unknown = runtime.predict_batch([runtime.validate_input({"user_id": user}),
                                            runtime.validate_input({"user_id": "never-seen"})])
    assert 0 <= known["probability"] <= 1 and known["no_history"] is False
    assert len(known["reasons"]) == 3
    assert all({"feature", "value", "contribution", "text"} <= set(r) for r in known["reasons"])
    magnitudes = [abs(r["contribution"]) for r in known["reasons"]]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert any("typical:" in r["text"] for r in known["reasons"])
    assert runtime.population_rate == pytest.approx(trained_churn.result.metrics["positive_rate"], abs=1e-6)
    assert unknown == {"user_id": "never-seen", "probability": round(runtime.population_rate, 6),
                       "no_history": True, "as_of": unknown["as_of"], "reasons": []}
    early = runtime.predict_batch([runtime.validate_input({"user_id": user, "as_of": "1990-01-01"})])[0]
    assert early["no_history"] is True  # nothing before that moment


def test_inactive_users_score_higher_than_active_ones(trained_churn):
    runtime = load_runtime("behaviour", trained_churn.artifact, {}, LoadContext())
    gone = [u["user_id"] for u in trained_churn.catalog.users
            if u["churned_at"] and u["churned_at"] < runtime.history_end - 90 * 86_400]
    staying = [u["user_id"] for u in trained_churn.catalog.users if not u["churned_at"]]
    p_gone = [p["probability"] for p in runtime.predict_users(gone, [None] * len(gone)) if not p["no_history"]]
    p_staying = [p["probability"] for p in runtime.predict_users(staying, [None] * len(staying))]
    assert gone and np.mean(p_gone) > np.mean(p_staying) + 0.3


def test_batch_scoring_ranks_every_known_user_and_writes_a_table(trained_churn, tmp_path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from limelight.behaviour.scoring import ranked, ranked_table

    runtime = load_runtime("behaviour", trained_churn.artifact, {}, LoadContext())
    rows = ranked(runtime)
    assert len(rows) == len(runtime.known_users())
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    probabilities = [r["probability"] for r in rows]
    assert probabilities == sorted(probabilities, reverse=True) and rows[0]["top_reason"]
    pacsv.write_csv(ranked_table(rows), tmp_path / "at-risk.csv")
    pq.write_table(ranked_table(rows), tmp_path / "at-risk.parquet")
    csv_table = pacsv.read_csv(tmp_path / "at-risk.csv")
    parquet_table = pq.read_table(tmp_path / "at-risk.parquet")
    assert csv_table.column("user_id").to_pylist() == parquet_table.column("user_id").to_pylist() == \
        [r["user_id"] for r in rows]
    assert ranked(runtime, limit=5) == rows[:5]


def test_the_artifact_passes_the_sandboxed_validator(trained_churn, tmp_path):
    from limelight.runtimes.sandbox import validate_in_sandbox

    verdict = validate_in_sandbox(trained_churn.artifact, runtime="behaviour", params={})
    assert verdict.format == "npz" and verdict.signature["target"] == "churn"
    assert verdict.libraries["lightgbm"] != "absent"


def test_a_tampered_artifact_is_refused(trained_churn, tmp_path):
    from limelight.artifacts.arrays import read_npz, write_npz
    from limelight.errors import LimelightError
    from limelight.runtimes.sandbox import validate_in_sandbox

    arrays = read_npz(trained_churn.artifact, "test")
    arrays["history.offsets"] = arrays["history.offsets"][:-3]  # users no longer line up with events
    broken = tmp_path / "broken.npz"
    write_npz(broken, arrays)
    with pytest.raises(LimelightError) as raised:
        validate_in_sandbox(broken, runtime="behaviour", params={})
    assert raised.value.status == 422 and "line up" in raised.value.message
    arrays = read_npz(trained_churn.artifact, "test")
    arrays["model"] = np.array("tree\nnot a model")
    write_npz(broken, arrays)
    with pytest.raises(LimelightError) as raised:
        validate_in_sandbox(broken, runtime="behaviour", params={})
    assert raised.value.status == 422
    copy = tmp_path / "copy.npz"
    shutil.copy(trained_churn.artifact, copy)
    assert not math.isnan(load(copy).metadata["population_rate"])


def test_next_action_predicts_an_event_type_and_refuses_an_absent_one(tmp_path):
    from limelight.errors import ValidationFailed
    from limelight.recipes import get_recipe
    from tests.behaviour.data import audience
    from tests.support.local_context import LocalJobContext, parquet_file

    catalog = audience(n_users=200, seed=5)
    ctx = LocalJobContext(tmp_path, {"main": parquet_file(tmp_path / "events.parquet", catalog.interactions)})
    recipe = get_recipe("predict-behaviour/next-action")
    result = recipe.run(ctx, recipe.Params.model_validate({"event_type": "complete", "horizon_days": 60,
                                                           "num_boost_round": 15}))
    runtime = load_runtime("behaviour", ctx.output_path(".npz"), {}, LoadContext())
    assert runtime.artifact.metadata["target"] == "next-action" and "days_since_target" in runtime.names
    assert 0 < result.metrics["positive_rate"] < 1 and result.metrics["baseline_roc_auc"] is not None
    with pytest.raises(ValidationFailed) as raised:
        recipe.run(ctx, recipe.Params.model_validate({"event_type": "subscribe", "horizon_days": 60}))
    assert raised.value.details["field"] == "params.event_type" and "complete" in raised.value.details["types"]


def test_the_synthetic_audience_churns_only_when_asked():
    from limelight.recsys.synthetic import CHURN_QUIET_DAYS, generate_catalog

    plain = generate_catalog(n_items=80, n_users=60, seed=2)
    assert plain == generate_catalog(n_items=80, n_users=60, seed=2, churn_fraction=0.0)
    assert "churned_at" not in plain.users[0]
    churny = generate_catalog(n_items=80, n_users=60, seed=2, churn_fraction=0.5)
    end = 1_735_689_600
    churned = {u["user_id"]: u["churned_at"] for u in churny.users if u["churned_at"]}
    assert 15 <= len(churned) <= 45
    for row in churny.interactions:
        if row["user_id"] in churned:
            assert row["timestamp"] <= churned[row["user_id"]] <= end - CHURN_QUIET_DAYS * 86_400
    assert [(r["user_id"], r["item_id"]) for r in plain.interactions] == \
        [(r["user_id"], r["item_id"]) for r in churny.interactions]  # the same picks, re-timed
