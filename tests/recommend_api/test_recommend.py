"""Recommendations end to end through a real server: titles, fallback, filters, explanations,
live events folded in without retraining, and clear 4xx errors."""

from __future__ import annotations

import time

import pytest

from tests.support.factories import error_code, ok


def _recommend(client, org: str, body: dict, model: str = "movies"):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/v1/models/{org}/{model}:recommend", json=body)


def test_trained_version_carries_ranking_metrics_and_lineage(recsys_tenant):
    job = recsys_tenant.job
    metrics = job["result"]["metrics"]
    assert 0 < metrics["ndcg@10"] <= 1 and 0 < metrics["recall@10"] <= 1 and "map@10" in metrics
    assert "coverage@10" in metrics and "popularity_bias@10" in metrics
    assert job["result"]["summary"]["candidates"][0]["recipe"] == "als"


def test_known_user_gets_titled_recommendations_without_seen_items(recsys_tenant, catalog):
    org = recsys_tenant.org
    user = catalog.interactions[0]["user_id"]
    seen = {e["item_id"] for e in catalog.interactions if e["user_id"] == user}
    with recsys_tenant.client() as client:
        response = _recommend(client, org, {"user_id": user, "k": 10})
    body = ok(response)
    assert response.headers["limelight-model-version"] == "1"
    assert body["fallback"] is None and body["version"] == 1 and body["model"] == f"{org}/movies"
    assert len(body["items"]) == 10
    assert all(item["title"] and item["item_id"] not in seen for item in body["items"])
    assert [i["score"] for i in body["items"]] == sorted((i["score"] for i in body["items"]), reverse=True)


def test_unknown_user_gets_popularity_with_a_fallback_flag(recsys_tenant):
    with recsys_tenant.client() as client:
        body = ok(_recommend(client, recsys_tenant.org, {"user_id": "nobody-at-all", "k": 5}))
    assert body["fallback"] == "popularity" and len(body["items"]) == 5


def test_metadata_filters_restrict_the_candidates(recsys_tenant, catalog):
    org = recsys_tenant.org
    genre = catalog.items[0]["genres"][0]
    by_id = {i["item_id"]: i for i in catalog.items}
    with recsys_tenant.client() as client:
        genre_body = ok(_recommend(client, org, {"user_id": "u00002", "k": 8, "filters": {"genres": [genre]}}))
        year_body = ok(_recommend(client, org, {"user_id": "u00002", "k": 8,
                                                 "filters": {"year": {"min": 2000, "max": 2010}}}))
        excluded = [i["item_id"] for i in genre_body["items"][:3]]
        exclude_body = ok(_recommend(client, org, {"user_id": "u00002", "k": 8,
                                                    "filters": {"genres": [genre], "exclude_item_ids": excluded}}))
    assert genre_body["items"] and all(genre in by_id[i["item_id"]]["genres"] for i in genre_body["items"])
    assert year_body["items"] and all(2000 <= by_id[i["item_id"]]["year"] <= 2010 for i in year_body["items"])
    assert not {i["item_id"] for i in exclude_body["items"]} & set(excluded)


@pytest.mark.parametrize("body, field", [
    ({"user_id": "u00001", "k": 0}, "k"),
    ({"user_id": "u00001", "k": 1001}, "k"),
    ({"user_id": "u00001", "k": "ten"}, "k"),
    ({"k": 5}, "user_id"),
    ({"user_id": "u00001", "filters": {"studio": ["A24"]}}, "filters.studio"),
    ({"user_id": "u00001", "filters": {"year": {"from": 1990}}}, "filters.year"),
    ({"user_id": "u00001", "surprise": 1}, "surprise"),
])
def test_bad_requests_get_422_naming_the_field(recsys_tenant, body, field):
    with recsys_tenant.client() as client:
        response = _recommend(client, recsys_tenant.org, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_unknown_model_version_or_item_get_404(recsys_tenant):
    org = recsys_tenant.org
    with recsys_tenant.client() as client:
        assert _recommend(client, org, {"user_id": "u1"}, model="no-such-model").status_code == 404
        assert client.post(f"/v1/models/{org}/movies:recommend?version=9", json={"user_id": "u1"}).status_code == 404
        similar = client.post(f"/v1/models/{org}/movies:similar", json={"item_id": "no-such-item"})
    assert similar.status_code == 404 and error_code(similar) == "not_found"


def test_similar_items_and_explanations_name_titles(recsys_tenant, catalog):
    org = recsys_tenant.org
    item = catalog.interactions[0]["item_id"]
    user = catalog.interactions[0]["user_id"]
    history = {e["item_id"] for e in catalog.interactions if e["user_id"] == user}
    with recsys_tenant.client() as client:
        similar = ok(client.post(f"/v1/models/{org}/movies:similar", json={"item_id": item, "k": 5}))
        explained = ok(client.post(f"/v1/models/{org}/movies:explain", json={"user_id": user, "k": 3}))
    assert len(similar["items"]) == 5 and item not in {i["item_id"] for i in similar["items"]}
    assert similar["item"]["title"]
    assert len(explained["explanations"]) == 3
    for entry in explained["explanations"]:
        assert entry["title"] and entry["because"]
        assert {b["item_id"] for b in entry["because"]} <= history
        assert all(b["title"] for b in entry["because"])


def test_a_live_event_changes_the_next_recommendations_within_a_second(recsys_tenant, catalog):
    org = recsys_tenant.org
    user = "u00007"
    with recsys_tenant.client() as client:
        before = [i["item_id"] for i in ok(_recommend(client, org, {"user_id": user, "k": 10}))["items"]]
        plays = [{"event_id": f"live-{user}-{n}", "user_id": user, "item_id": before[n], "type": "complete"}
                 for n in range(3)]
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"events": plays}))
        sent = time.monotonic()
        while True:
            after = [i["item_id"] for i in ok(_recommend(client, org, {"user_id": user, "k": 10}))["items"]]
            if after != before or time.monotonic() - sent > 1.0:
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - sent
    assert after != before, "events did not change the recommendations"
    assert not set(after) & {p["item_id"] for p in plays}, "completed items are now seen and excluded"
    assert elapsed <= 1.0


def test_a_brand_new_user_is_folded_in_from_their_first_events(recsys_tenant):
    org = recsys_tenant.org
    with recsys_tenant.client() as client:
        cold = ok(_recommend(client, org, {"user_id": "newcomer-1", "k": 5}))
        popular = [i["item_id"] for i in cold["items"]]
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"events": [
            {"event_id": "newcomer-1-a", "user_id": "newcomer-1", "item_id": popular[0], "type": "play"}]}))
        warm = ok(_recommend(client, org, {"user_id": "newcomer-1", "k": 5}))
    assert cold["fallback"] == "popularity"
    assert warm["fallback"] is None and popular[0] not in {i["item_id"] for i in warm["items"]}


def test_auto_compares_candidates_and_the_cli_shows_the_table(recsys_tenant):
    import subprocess
    import sys

    from tests.recommend_api.conftest import wait_for_job

    org = recsys_tenant.org
    with recsys_tenant.client() as client:
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/auto", "dataset": "views", "items_dataset": "titles", "model": "movies-auto",
            "params": {"time_budget_s": 8, "candidates": ["popularity", "itemknn", "als"]}}))
        done = wait_for_job(client, org, job["id"])
    table = done["result"]["summary"]["candidates"]
    singles = [row for row in table if row["recipe"] != "blend"]
    assert {row["recipe"] for row in singles} == {"popularity", "itemknn", "als"}
    for blended in (row for row in table if row["recipe"] == "blend"):  # when the budget left time for it
        assert {m["recipe"] for m in blended["params"]["members"]} < {"popularity", "itemknn", "als"}
    best = max(table, key=lambda row: row["ndcg@10"])
    assert done["result"]["summary"]["winner"] == best["recipe"]
    env = {"LIMELIGHT_URL": recsys_tenant.server.url, "LIMELIGHT_API_KEY": recsys_tenant.key, "COLUMNS": "200",
           "PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-m", "limelight.cli.main", "jobs", "show", job["id"]], env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "Candidates" in shown.stdout and "ndcg@10" in shown.stdout and "itemknn" in shown.stdout


def test_retraining_after_events_gates_on_ndcg(recsys_tenant):
    from tests.recommend_api.conftest import wait_for_job

    org = recsys_tenant.org
    with recsys_tenant.client() as client:
        ok(client.put(f"/api/v1/orgs/{org}/models/movies/retrain-policy", json={
            "recipe": "recommend/als", "dataset": "views", "items_dataset": "titles", "after_events": 20,
            "params": {"factors": 32, "iterations": 10}}))
        events = [{"event_id": f"retrain-{n}", "user_id": f"u{n % 50:05d}", "item_id": f"m{n % 90 + 1:05d}",
                   "type": "play"} for n in range(20)]
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"events": events}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = ok(client.get(f"/api/v1/orgs/{org}/jobs", params={"model": "movies"}))["items"]
            if len(jobs) >= 2:
                break
            time.sleep(0.2)
        done = wait_for_job(client, org, jobs[0]["id"])
        ok(client.put(f"/api/v1/orgs/{org}/models/movies/retrain-policy", json={
            "recipe": "recommend/als", "dataset": "views", "items_dataset": "titles", "every_hours": 1000}))
    gate = done["result"]["promotion"]
    assert gate["metric"] == "ndcg@10" and gate["new_version"] == 2 and gate["current_version"] == 1
    assert gate["passed"] == (gate["new"] >= gate["current"])
