""":search end to end through a real server: upload items, train search/catalog as a job, query."""

from __future__ import annotations

import pytest

from tests.recommend_api.conftest import wait_for_job
from tests.search import catalog_data
from tests.support.factories import error_code, new_tenant, ok


@pytest.fixture(scope="module")
def search_tenant(sqlite_server):  # type: ignore[no-untyped-def]
    tenant = new_tenant(sqlite_server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets",
                       files={"file": ("films.csv", catalog_data.items_csv(catalog_data.items(300)))},
                       data={"name": "films", "kind": "items"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "search/catalog", "dataset": "films", "model": "finder", "promote": "production",
            "params": {"fields": {"title": 3, "genres": 1, "description": 1, "tags": 1}}}))
        done = wait_for_job(client, org, job["id"], timeout_s=240)
        assert done["state"] == "succeeded", done.get("error") or done
    tenant.job = done  # type: ignore[attr-defined]
    return tenant


def _search(client, org: str, body: dict, model: str = "finder"):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/v1/models/{org}/{model}:search", json=body)


def test_the_trained_version_reports_retrieval_metrics(search_tenant):
    metrics = search_tenant.job["result"]["metrics"]
    assert metrics["items"] == 300 and metrics["self_retrieval@10.hybrid"] >= 0.9
    assert "index_build_seconds" in metrics and "ann_recall@10" not in metrics  # 300 items: exact


def test_hybrid_lexical_and_semantic_answers(search_tenant):
    org = search_tenant.org
    with search_tenant.client() as client:
        synonym = {m: ok(_search(client, org, {"query": catalog_data.SYNONYM_QUERY, "k": 5, "mode": m}))
                   for m in ("hybrid", "semantic", "lexical")}
        rare = ok(_search(client, org, {"query": catalog_data.RARE_QUERY, "mode": "lexical"}))
        default = ok(_search(client, org, {"query": "Zarkovian brothers"}))
    assert synonym["hybrid"]["items"][0]["item_id"] == catalog_data.CHEF_ID
    assert synonym["semantic"]["items"][0]["item_id"] == catalog_data.CHEF_ID
    assert synonym["lexical"]["items"] == []
    assert [i["item_id"] for i in rare["items"]] == [catalog_data.RARE_ID]
    assert rare["items"][0]["highlights"]["title"] == [[0, 9]]
    assert default["model"] == f"{org}/finder" and default["version"] == 1 and default["index"] == "exact"
    assert len(default["items"]) == 10 and default["items"][0]["item_id"] == catalog_data.RARE_ID
    assert default["items"][0]["title"] == "Zarkovian Nights" and default["items"][0]["year"] == 1994


def test_filters_apply_to_search(search_tenant):
    with search_tenant.client() as client:
        body = ok(_search(client, search_tenant.org, {"query": "a ghost in an old house", "k": 20,
                                                       "filters": {"genres": ["Horror"], "year": {"max": 1990}}}))
    assert body["items"] and all("Horror" in i["genres"] and i["year"] <= 1990 for i in body["items"])


@pytest.mark.parametrize("body, field", [
    ({"query": "   "}, "query"),
    ({"k": 3}, "query"),
    ({"query": 5}, "query"),
    ({"query": "heist", "k": 0}, "k"),
    ({"query": "heist", "k": 101}, "k"),
    ({"query": "heist", "k": True}, "k"),
    ({"query": "heist", "mode": "fuzzy"}, "mode"),
    ({"query": "heist", "colour": "red"}, "colour"),
    ({"query": "heist", "filters": {"studio": ["A24"]}}, "filters.studio"),
    ({"query": "heist", "filters": {"year": {"from": 1990}}}, "filters.year"),
    ({"query": "heist", "filters": ["Horror"]}, "filters"),
])
def test_bad_requests_get_422_naming_the_field(search_tenant, body, field):
    with search_tenant.client() as client:
        response = _search(client, search_tenant.org, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_another_orgs_private_model_is_not_found(search_tenant, sqlite_server):
    stranger = new_tenant(sqlite_server)
    with stranger.client() as client:
        response = _search(client, search_tenant.org, {"query": "heist"})
    assert response.status_code == 404 and error_code(response) == "not_found"
    with search_tenant.client() as client:
        assert _search(client, search_tenant.org, {"query": "x"}, model="nope").status_code == 404


def test_a_forged_search_artifact_upload_is_refused_and_the_server_stays_up(search_tenant, sqlite_server):
    import io
    import json

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, format=np.array("limelight.search/1"), metadata=np.array(json.dumps({"fields": ["title"]})),
             item_ids=np.array(["a", "b"]), item_titles=np.array(["A", "B"]), embeddings=np.ones((2, 384)),
             **{"field.title": np.array(["A", "B"]), "bm25.vocab": np.array(["a"]),
                "bm25.indptr": np.array([0, 1]), "bm25.indices": np.array([7]), "bm25.data": np.array([1.0])})
    org = search_tenant.org
    with search_tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "forged", "task": "search"}))
        response = client.post(f"/api/v1/orgs/{org}/models/forged/versions", files={"file": ("m.npz", buffer.getvalue())},
                               data={"meta": json.dumps({"runtime": "catalog-search"})})
        assert response.status_code == 422 and error_code(response) == "validation_failed", response.text
        assert ok(_search(client, org, {"query": "heist", "k": 1}))["items"]
    assert sqlite_server.process.poll() is None


def test_kserve_v2_infer_takes_a_json_search_request_as_bytes(search_tenant):
    import json

    request = json.dumps({"query": catalog_data.RARE_QUERY, "k": 2, "mode": "lexical"})
    with search_tenant.client() as client:
        body = ok(client.post(f"/v2/models/{search_tenant.org}.finder/infer", json={
            "inputs": [{"name": "query", "datatype": "BYTES", "shape": [1], "data": [request]}]}))
    outputs = {o["name"]: o for o in body["outputs"]}
    items = outputs["items"]["data"][0]
    items = json.loads(items) if isinstance(items, str) else items
    assert [i["item_id"] for i in items] == [catalog_data.RARE_ID]
    assert outputs["index"]["data"] == ["exact"]
