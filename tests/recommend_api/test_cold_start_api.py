"""recommend/hybrid through a real server: catalog items nobody interacted with are recommended,
filtered, similar-listed and explained by their text; a job without an items catalog is a 400."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.recommend_api.conftest import parquet_bytes, wait_for_job
from tests.support.factories import error_code, new_tenant, ok

N_COLD = 15


@pytest.fixture(scope="module")
def hybrid_tenant(sqlite_server):  # type: ignore[no-untyped-def]
    from limelight.recsys.synthetic import generate_catalog

    catalog = generate_catalog(n_items=150, n_users=150, seed=11)
    cold = sorted(item["item_id"] for item in catalog.items[-N_COLD:])
    kept = [e for e in catalog.interactions if e["item_id"] not in set(cold)]
    tenant = new_tenant(sqlite_server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("v.parquet", parquet_bytes(pa.Table.from_pylist(kept)))},
                       data={"name": "views", "kind": "interactions"}))
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("t.parquet", parquet_bytes(catalog.items_table()))},
                       data={"name": "titles", "kind": "items"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/hybrid", "dataset": "views", "items_dataset": "titles", "model": "films",
            "promote": "production", "params": {"base": "ease", "base_params": {"l2": 50.0}}}))
        done = wait_for_job(client, org, job["id"])
        assert done["state"] == "succeeded", done
    tenant.job, tenant.catalog, tenant.cold, tenant.kept = done, catalog, cold, kept  # type: ignore[attr-defined]
    return tenant


def test_cold_items_are_served_filtered_similar_listed_and_explained(hybrid_tenant):
    org, cold, catalog = hybrid_tenant.org, hybrid_tenant.cold, hybrid_tenant.catalog
    metrics = hybrid_tenant.job["result"]["metrics"]
    assert metrics["cold_ndcg_at_10"] > metrics["cold_ndcg_at_10_baseline"]
    assert metrics["cold_items"] == N_COLD
    genres = {i["item_id"]: set(i["genres"]) for i in catalog.items}
    user = hybrid_tenant.kept[0]["user_id"]
    seen = {e["item_id"] for e in hybrid_tenant.kept if e["user_id"] == user}
    with hybrid_tenant.client() as client:
        only_cold = ok(client.post(f"/v1/models/{org}/films:recommend",
                                   json={"user_id": user, "k": 5, "filters": {"item_ids": cold}}))
        top = [i["item_id"] for i in only_cold["items"]]
        genre = sorted(genres[top[0]])[0]
        by_genre = ok(client.post(f"/v1/models/{org}/films:recommend", json={
            "user_id": user, "k": 50, "filters": {"genres": [genre], "exclude_item_ids": top[1:3]}}))
        similar = ok(client.post(f"/v1/models/{org}/films:similar", json={"item_id": top[0], "k": 5}))
        explained = ok(client.post(f"/v1/models/{org}/films:explain", json={"user_id": user, "item_id": top[0]}))
        no_items = client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/hybrid", "dataset": "views", "model": "films2"})
    assert len(top) == 5 and set(top) <= set(cold) and all(i["title"] for i in only_cold["items"])
    served = [i["item_id"] for i in by_genre["items"]]
    assert top[0] in served and not set(served) & (set(top[1:3]) | seen)
    assert all(genre in genres[i] for i in served)
    assert similar["item"]["title"] and len(similar["items"]) == 5 and top[0] not in {
        i["item_id"] for i in similar["items"]}
    because = explained["explanations"][0]["because"]
    assert because and {b["item_id"] for b in because} <= seen and all(b["title"] for b in because)
    assert no_items.status_code == 400 and error_code(no_items) == "invalid_params"
    assert no_items.json()["error"]["details"]["field"] == "items_dataset"


def test_auto_places_catalog_items_without_interactions_when_its_winner_can(hybrid_tenant):
    org, cold = hybrid_tenant.org, hybrid_tenant.cold
    user = hybrid_tenant.kept[0]["user_id"]
    with hybrid_tenant.client() as client:
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/auto", "dataset": "views", "items_dataset": "titles", "model": "films-auto",
            "promote": "production", "params": {"candidates": ["ease"], "time_budget_s": 5}}))
        done = wait_for_job(client, org, job["id"])
        assert done["state"] == "succeeded", done
        body = ok(client.post(f"/v1/models/{org}/films-auto:recommend",
                              json={"user_id": user, "k": 3, "filters": {"item_ids": cold}}))
    metrics = done["result"]["metrics"]
    assert metrics["cold_items"] == N_COLD and metrics["cold_ndcg_at_10"] > metrics["cold_ndcg_at_10_baseline"]
    assert len(body["items"]) == 3 and {i["item_id"] for i in body["items"]} <= set(cold)
