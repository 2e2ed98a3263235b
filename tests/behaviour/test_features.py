"""Features see only the past, labels only the horizon, cutoffs stay inside the data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight.behaviour.features import FeatureSpec, ProfileColumn, user_features
from limelight.behaviour.history import Histories, UserEvents
from limelight.behaviour.snapshots import check_cutoff, label, parse_moment, snapshot
from limelight.errors import CutoffOutOfRange, ValidationFailed
from tests.behaviour.data import DAY_S, audience

T0 = 1_700_000_000


def _events(days: list[float], types: list[str] | None = None) -> UserEvents:
    ts = np.array([T0 + int(d * DAY_S) for d in days], np.int64)
    kinds = np.array(types or ["play"] * len(days))
    return UserEvents(ts, kinds, np.full(len(days), np.nan), np.array([f"m{i % 3}" for i in range(len(days))]))


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


def test_an_event_after_the_cutoff_never_changes_a_feature():
    catalog = audience(n_users=60)
    rows = catalog.interactions
    spec = FeatureSpec(has_types=True, event_type="purchase")
    cutoff = sorted(r["timestamp"] for r in rows)[len(rows) // 2]
    base = Histories.from_columns([r["user_id"] for r in rows], [r["item_id"] for r in rows],
                                  [r["timestamp"] for r in rows], [r["type"] for r in rows])
    future = [dict(r, timestamp=cutoff + DAY_S * (1 + n % 40), type="skip" if n % 2 else "purchase")
              for n, r in enumerate(rows[:500])] + [{**rows[0], "timestamp": cutoff}]  # at the cutoff: excluded too
    more = rows + future
    extended = Histories.from_columns([r["user_id"] for r in more], [r["item_id"] for r in more],
                                      [r["timestamp"] for r in more], [r["type"] for r in more])
    compared = 0
    for user in base.users.tolist():
        before = user_features(base.user(user), cutoff, spec)
        after = user_features(extended.user(user), cutoff, spec)
        assert _same(before, after), user
        compared += 1
    assert compared == len(base.users)
    assert len(extended.ts) > len(base.ts)


def test_window_counts_recency_and_rates():
    events = _events([0, 10, 50, 55, 58], ["play", "complete", "play", "skip", "complete"])
    features = user_features(events, T0 + 60 * DAY_S, FeatureSpec())
    assert features["days_since_last"] == pytest.approx(2)
    assert features["tenure_days"] == pytest.approx(60)
    assert (features["events_7d"], features["events_30d"], features["events_90d"]) == (2, 3, 5)  # day 50 is 10 days back
    assert features["completion_rate"] == pytest.approx(2 / 4)
    assert features["skip_rate"] == pytest.approx(1 / 5)
    assert features["sessions_total"] == 5 and features["active_days_30d"] == 3
    assert features["trend_30d_vs_90d"] == pytest.approx(3 * 3 / 5)


def test_profile_columns_are_numbers_or_category_indices():
    spec = FeatureSpec(profile=[ProfileColumn("age"), ProfileColumn("plan", ["family", "free"])])
    features = user_features(_events([1]), T0 + 5 * DAY_S, spec, {"age": 31, "plan": "free"})
    assert features["profile.age"] == 31 and features["profile.plan"] == 1
    unknown = user_features(_events([1]), T0 + 5 * DAY_S, spec, {"plan": "gold"})
    assert math.isnan(unknown["profile.plan"]) and math.isnan(unknown["profile.age"])


def test_churn_and_next_action_labels_look_only_inside_the_horizon():
    events = _events([0, 5, 40], ["play", "play", "purchase"])
    assert label(events, T0 + 6 * DAY_S, 30, "churn", None) == 1  # nothing in days 6..36
    assert label(events, T0 + 6 * DAY_S, 40, "churn", None) == 0  # day 40 is inside 6..46
    assert label(events, T0 + 6 * DAY_S, 30, "next-action", "purchase") == 0
    assert label(events, T0 + 20 * DAY_S, 30, "next-action", "purchase") == 1
    assert label(events, T0 + 41 * DAY_S, 30, "next-action", "purchase") == 0


def test_a_snapshot_takes_only_users_with_history_before_the_cutoff():
    histories = Histories.from_columns(["a", "a", "b", "c"], ["m1", "m2", "m1", "m3"],
                                       [T0, T0 + 25 * DAY_S, T0 + 2 * DAY_S, T0 + 20 * DAY_S])
    snap = snapshot(histories, T0 + 10 * DAY_S, 30, "churn", FeatureSpec(has_types=False))
    assert snap.users == ["a", "b"]  # c starts after the cutoff
    assert snap.labels.tolist() == [0, 1]  # a comes back on day 25, b never does
    assert snap.features.shape == (2, len(FeatureSpec(has_types=False).names()))


def test_cutoffs_outside_the_data_are_refused_with_its_range():
    start, end = T0, T0 + 100 * DAY_S
    check_cutoff(T0 + 70 * DAY_S, 30, start, end)  # inside: no error
    for cutoff in (T0 - DAY_S, T0, T0 + 80 * DAY_S, T0 + 400 * DAY_S):
        with pytest.raises(CutoffOutOfRange) as raised:
            check_cutoff(cutoff, 30, start, end)
        assert raised.value.status == 422 and raised.value.code == "cutoff_out_of_range"
        details = raised.value.details
        assert details["data_start"] == "2023-11-14T22:13:20Z" and details["data_end"] == "2024-02-22T22:13:20Z"
        assert details["latest_cutoff"] == "2024-01-24T22:13:20Z"


def test_training_cutoffs_must_end_before_the_validation_cutoff():
    from limelight.behaviour.params import BehaviourParams
    from limelight.behaviour.training_job import check_cutoffs

    start, end = T0, T0 + 200 * DAY_S
    cutoff, training = check_cutoffs(BehaviourParams(horizon_days=30), start, end)
    assert cutoff == end - 30 * DAY_S + 1
    assert training == sorted(training) and all(c + 30 * DAY_S <= cutoff for c in training) and len(training) == 3
    overlapping = BehaviourParams(horizon_days=30, cutoff=T0 + 150 * DAY_S, cutoffs=[T0 + 140 * DAY_S])
    with pytest.raises(CutoffOutOfRange) as raised:
        check_cutoffs(overlapping, start, end)
    assert raised.value.details["field"] == "params.cutoffs[0]"
    with pytest.raises(CutoffOutOfRange):
        check_cutoffs(BehaviourParams(horizon_days=30, cutoff=T0 + 20 * DAY_S), start, end)  # no room to train


def test_moments_parse_from_iso_dates_and_epochs():
    assert parse_moment("2024-01-01", "c") == 1_704_067_200 == parse_moment("2024-01-01T00:00:00Z", "c")
    assert parse_moment(1_704_067_200, "c") == 1_704_067_200
    for bad in ("yesterday", True, float("nan")):
        with pytest.raises(ValidationFailed):
            parse_moment(bad, "c")  # type: ignore[arg-type]


def test_active_within_days_keeps_only_users_active_before_the_cutoff():
    histories = Histories.from_columns(["a", "b", "b"], ["m1", "m1", "m2"],
                                       [T0, T0, T0 + 95 * DAY_S])
    spec = FeatureSpec(has_types=False)
    everyone = snapshot(histories, T0 + 100 * DAY_S, 30, "churn", spec)
    active = snapshot(histories, T0 + 100 * DAY_S, 30, "churn", spec, active_within_days=30)
    assert everyone.users == ["a", "b"] and active.users == ["b"]


def test_cutoff_params_take_dates_or_epochs_as_numbers_or_text():
    from pydantic import ValidationError

    from limelight.behaviour.params import BehaviourParams

    params = BehaviourParams.model_validate({"cutoff": 1_704_067_200, "cutoffs": ["2023-06-01", 1_690_000_000]})
    assert params.cutoff == "1704067200" and params.cutoffs == ["2023-06-01", "1690000000"]
    assert parse_moment(params.cutoff, "c") == 1_704_067_200 == parse_moment("2024-01-01", "c")
    for bad in ({"cutoff": True}, {"cutoff": float("inf")}, {"cutoffs": "2024-01-01"}, {"horizon_days": 0}):
        with pytest.raises(ValidationError):
            BehaviourParams.model_validate(bad)


def test_reasons_read_like_sentences():
    from limelight.behaviour.reasons import describe, top_reasons

    assert describe("days_since_last", 45.2, 6.0) == "no activity for 45 days (typical: 6)"
    assert describe("days_since_last", 1.0, None) == "no activity for 1 day"
    assert describe("events_30d", 3.0, 12.0) == "3 events in the last 30 days (typical: 12)"
    assert describe("completion_rate", 0.25, 0.5) == "finishes 25% of what they start (typical: 50%)"
    assert describe("days_since_target", float("nan"), 30.0) == "never did the target action"
    assert describe("profile.plan", 1.0, None, ["family", "free"]) == "plan: free"
    reasons = top_reasons(["a_feature", "days_since_last"], [1.0, 45.0], [0.1, -2.0], {"days_since_last": 6.0}, {}, 1)
    assert reasons == [{"feature": "days_since_last", "value": 45.0, "contribution": -2.0,
                        "text": "no activity for 45 days (typical: 6)"}]
