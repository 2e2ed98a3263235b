"""Catalog health of a served recommender: the math on its own, then through a real server (what
`:recommend` and `:similar` showed, counted per week, coverage over the trained catalog, drift)."""

from __future__ import annotations

import math
import time

import pytest

from limelight.monitoring.catalog_health import coverage, drift, gini
from limelight.monitoring.shown_items import WEEK_S, week_start
from tests.support.factories import error_code, interactions_csv, new_tenant, ok, skops_model_bytes
from tests.support.job_events import follow_job


def test_gini_is_zero_when_even_and_near_one_when_one_item_takes_everything():
    assert gini({"a": 5, "b": 5, "c": 5}) == pytest.approx(0.0)
    assert gini({"a": 100}, catalog_size=100) == pytest.approx(0.99)
    # never-shown catalog items count as zeros: the same shown counts are more concentrated
    assert gini({"a": 1, "b": 3}, catalog_size=10) > gini({"a": 1, "b": 3})
    assert gini({"a": 1, "b": 3}) == pytest.approx(0.25)  # |1-3| summed both ways / (2 * 2^2 * mean 2)
    assert gini({}) is None


def test_coverage_and_drift():
    assert coverage({"a": 3, "b": 1}, 8) == 0.25 and coverage({"a": 1}, None) is None
    assert drift({"a": 5, "b": 5}, {"a": 50, "b": 50}) == pytest.approx(0.0)  # the same distribution
    assert drift({"a": 1}, {"b": 1}) == pytest.approx(1.0)  # nothing in common
    middle = drift({"a": 3, "b": 1}, {"a": 1, "b": 3})
    assert 0 < middle < 1 and drift({}, {"a": 1}) is None


def test_weeks_start_on_monday_utc():
    monday = 1733097600  # 2024-12-02 00:00 UTC, a Monday
    assert week_start(monday) == monday and week_start(monday + WEEK_S - 1) == monday
    assert week_start(monday - 1) == monday - WEEK_S


@pytest.fixture(scope="module")
def served(server):  # type: ignore[no-untyped-def]
    """A popularity recommender trained on 40 items, asked for 5 items by 12 users and 3 similar items once."""
    tenant = new_tenant(server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("views.csv", interactions_csv())},
                       data={"name": "views", "kind": "interactions"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "recommend/popularity", "dataset": "views",
                                                               "model": "recs"}))
        assert follow_job(client, org, job["id"], timeout_s=180)["state"] == "succeeded"
        shown: dict[str, int] = {}
        for i in range(12):
            answer = ok(client.post(f"/v1/models/{org}/recs:recommend", json={"user_id": f"u{i}", "k": 5}))
            for item in answer["items"]:
                shown[item["item_id"]] = shown.get(item["item_id"], 0) + 1
        similar = ok(client.post(f"/v1/models/{org}/recs:similar", json={"item_id": answer["items"][0]["item_id"],
                                                                         "k": 3}))
        for item in similar["items"]:
            shown[item["item_id"]] = shown.get(item["item_id"], 0) + 1
    tenant.shown = shown  # type: ignore[attr-defined]
    return tenant


def _catalog(tenant, name: str = "recs", **params):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.get(f"/api/v1/orgs/{tenant.org}/monitoring/models/{name}/catalog", params=params)


def test_what_was_shown_is_counted_per_week_with_coverage_over_the_catalog(served):
    expected = sum(served.shown.values())
    deadline = time.monotonic() + 15  # counts reach the store every monitoring.flush_interval_s
    while (health := ok(_catalog(served)))["weeks"][-1]["recommendations"] < expected:
        assert time.monotonic() < deadline, health
        time.sleep(0.2)
    this_week = health["weeks"][-1]
    assert this_week["recommendations"] == expected == 12 * 5 + 3
    assert this_week["distinct_items"] == len(served.shown)
    assert health["catalog_size"] == 40  # the trained version recorded its catalog
    assert this_week["coverage"] == pytest.approx(len(served.shown) / 40)
    assert this_week["gini"] == pytest.approx(gini(served.shown, 40))
    assert this_week["top_items"][0][1] == max(served.shown.values())
    assert len(health["weeks"]) == 8 and this_week["drift"] is None  # nothing shown the week before
    assert all(w["recommendations"] == 0 for w in health["weeks"][:-1])


def test_drift_compares_with_the_week_before(served, database_rows):
    last_week = week_start(time.time()) - WEEK_S
    model_id = database_rows(served.server, "SELECT m.id FROM models m JOIN orgs o ON o.id = m.org_id "
                                            "WHERE o.name = :org AND m.name = 'recs'", org=served.org)[0][0]
    before = {"old-a": 7, "old-b": 3}
    for item, shown in before.items():
        database_rows(served.server, "INSERT INTO shown_item_weeks (model_id, week_s, item_id, shown) "
                                     "VALUES (:m, :w, :i, :n)", m=model_id, w=last_week, i=item, n=shown)
    health = ok(_catalog(served, weeks=2))
    assert len(health["weeks"]) == 2 and health["weeks"][0]["recommendations"] == 10
    now = {k: v for k, v in served.shown.items()}
    assert health["weeks"][1]["drift"] == pytest.approx(drift(before, now)) and math.isclose(
        health["weeks"][1]["drift"], 1.0)  # no item in common with last week


def test_catalog_health_is_for_own_recommenders_only(server, served):
    with served.client() as client:
        ok(client.post(f"/api/v1/orgs/{served.org}/models", json={"name": "scorer", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{served.org}/models/scorer/versions", files={"file": ("m.skops", skops_model_bytes())},
                       data={"meta": '{"runtime": "sklearn"}'}))
    not_recommender = _catalog(served, "scorer")
    assert not_recommender.status_code == 404 and "not a recommender" in not_recommender.text
    assert _catalog(served, weeks=14).status_code == 422
    outsider = new_tenant(server)
    with outsider.client() as client:
        foreign = client.get(f"/api/v1/orgs/{served.org}/monitoring/models/recs/catalog")
    assert foreign.status_code == 404 and error_code(foreign) == "not_found"
