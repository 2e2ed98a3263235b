"""Events belong to one interactions dataset: training reads only its own dataset's events."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.recommend_api.conftest import wait_for_job
from tests.support.factories import error_code, interactions_csv, new_tenant, ok, tabular_csv


def _ids(raw: bytes) -> tuple[set[str], set[str]]:
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    return {r["user_id"] for r in rows}, {r["item_id"] for r in rows}


def _live_events(prefix: str) -> list[dict]:  # type: ignore[type-arg]
    return [{"event_id": f"{prefix}{n}", "user_id": f"live-user-{n % 3}", "item_id": f"live-item-{n % 2}",
             "type": "play"} for n in range(6)]


def _trained_ids(tenant, model: str) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    from limelight.artifacts.registry import open_store
    from limelight.recsys.artifact import load_model

    with tenant.client() as client:
        version = ok(client.get(f"/api/v1/orgs/{tenant.org}/models/{model}/versions/1"))
    store = open_store(tenant.server.env["LIMELIGHT_ARTIFACTS_URL"])
    trained = load_model(store.local_path(version["sha256"]))
    return set(map(str, trained.user_ids)), set(map(str, trained.item_ids))


@pytest.fixture(scope="module")
def two_catalogs(sqlite_server):  # type: ignore[no-untyped-def]
    tenant = new_tenant(sqlite_server)
    films, series = interactions_csv(users=30, items=40, seed=1), interactions_csv(users=25, items=30, seed=2)
    with tenant.client() as client:
        for name, raw in (("films", films), ("series", series)):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (f"{name}.csv", raw)},
                           data={"name": name, "kind": "interactions"}))
        ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("churn.csv", tabular_csv(50))},
                       data={"name": "churn", "kind": "tabular"}))
    return tenant, {"films": _ids(films), "series": _ids(series)}


def test_two_models_of_one_org_train_only_on_their_own_datasets_events(two_catalogs):
    tenant, source = two_catalogs
    org = tenant.org
    with tenant.client() as client:
        stored = ok(client.post(f"/api/v1/orgs/{org}/events", json={"dataset": "films",
                                                                    "events": _live_events("films-")}))
        jobs = {name: ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/popularity", "dataset": name, "model": f"{name}-recs"})) for name in source}
        for name, job in jobs.items():
            assert wait_for_job(client, org, job["id"])["state"] == "succeeded", name
    assert stored == {"accepted": 6, "duplicates": 0, "dataset": "films"}
    film_users, film_items = _trained_ids(tenant, "films-recs")
    series_users, series_items = _trained_ids(tenant, "series-recs")
    live_users, live_items = {"live-user-0", "live-user-1", "live-user-2"}, {"live-item-0", "live-item-1"}
    assert (len(film_users), len(film_items)) == (len(source["films"][0]) + 3, len(source["films"][1]) + 2)
    assert film_users == source["films"][0] | live_users and film_items == source["films"][1] | live_items
    assert (len(series_users), len(series_items)) == (len(source["series"][0]), len(source["series"][1]))
    assert series_users == source["series"][0] and series_items == source["series"][1]


def test_with_several_interactions_datasets_a_batch_must_name_its_dataset(two_catalogs):
    tenant, _ = two_catalogs
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _live_events("unnamed-")})
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert response.json()["error"]["details"]["datasets"] == ["films", "series"]


@pytest.mark.parametrize("dataset, status", [("nope", 404), ("churn", 422)])
def test_events_for_an_unknown_or_non_interactions_dataset_are_refused(two_catalogs, database_rows, dataset, status):
    tenant, _ = two_catalogs
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events",
                               json={"dataset": dataset, "events": _live_events(f"bad-{dataset}-")})
    assert response.status_code == status, response.text
    left = database_rows(tenant.server, "SELECT count(*) FROM events WHERE event_id LIKE :p", p=f"bad-{dataset}-%")
    assert left[0][0] == 0


def test_another_orgs_dataset_name_is_not_found(two_catalogs, sqlite_server):
    other = new_tenant(sqlite_server)
    with other.client() as client:
        response = client.post(f"/api/v1/orgs/{other.org}/events",
                               json={"dataset": "films", "events": _live_events("cross-")})
    assert response.status_code == 404


def test_with_one_interactions_dataset_events_belong_to_it_without_naming_it(sqlite_server):
    tenant = new_tenant(sqlite_server)
    with tenant.client() as client:
        before = ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _live_events("early-")}))
        ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("v.csv", interactions_csv())},
                       data={"name": "views", "kind": "interactions"}))
        after = ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _live_events("late-")}))
    assert before["dataset"] is None and after == {"accepted": 6, "duplicates": 0, "dataset": "views"}


def test_retraining_after_events_counts_only_the_models_own_datasets_events(two_catalogs):
    tenant, _ = two_catalogs
    org = tenant.org
    with tenant.client() as client:
        for name in ("films", "series"):
            ok(client.put(f"/api/v1/orgs/{org}/models/{name}-recs/retrain-policy", json={
                "recipe": "recommend/popularity", "dataset": name, "after_events": 4}))
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"dataset": "films", "events": _live_events("due-")}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # both policies are checked in the same pass of a worker
            films = ok(client.get(f"/api/v1/orgs/{org}/jobs", params={"model": "films-recs"}))["items"]
            if len(films) >= 2:
                break
            time.sleep(0.2)
        series = ok(client.get(f"/api/v1/orgs/{org}/jobs", params={"model": "series-recs"}))["items"]
        for name in ("films", "series"):
            ok(client.put(f"/api/v1/orgs/{org}/models/{name}-recs/retrain-policy", json={
                "recipe": "recommend/popularity", "dataset": name, "every_hours": 1000}))
    assert len(films) == 2, "six new films events did not trigger the films model's retraining"
    assert len(series) == 1, "the series model was retrained for events of the films dataset"
