"""Behaviour prediction through a real server: upload events and profiles, train churn, ``:predict``
one user or many, live events move the answer, ``:score`` ranks everyone, and bad input is a 4xx."""

from __future__ import annotations

import csv
import io

import pytest

from tests.behaviour.data import audience, profiles
from tests.support.factories import error_code, new_tenant, ok, wait_for_job
from tests.support.local_context import parquet_bytes


@pytest.fixture(scope="module")
def churn_tenant(sqlite_server):  # type: ignore[no-untyped-def]
    catalog = audience()
    tenant = new_tenant(sqlite_server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("events.parquet",
                                                                        parquet_bytes(catalog.interactions))},
                       data={"name": "events", "kind": "interactions"}))
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("people.parquet",
                                                                        parquet_bytes(profiles(catalog)))},
                       data={"name": "people", "kind": "users"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "predict-behaviour/churn", "dataset": "events", "users_dataset": "people", "model": "churn",
            "promote": "production", "params": {"horizon_days": 30, "num_boost_round": 20}}))
        done = wait_for_job(client, org, job["id"], timeout_s=240)
    assert done["state"] == "succeeded", done
    tenant.job = done  # type: ignore[attr-defined]
    tenant.catalog = catalog  # type: ignore[attr-defined]
    return tenant


def _predict(client, org: str, body: dict):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/v1/models/{org}/churn:predict", json=body)


def test_the_version_carries_calibration_and_baseline_metrics(churn_tenant):
    with churn_tenant.client() as client:
        version = ok(client.get(f"/api/v1/orgs/{churn_tenant.org}/models/churn/versions/1"))
    metrics = version["metrics"]
    assert version["runtime"] == "behaviour"
    assert {"roc_auc", "pr_auc", "brier", "baseline_roc_auc", "baseline_pr_auc", "baseline_brier",
            "roc_auc_ratio", "brier_ratio", "reliability", "cutoff", "population_rate"} <= set(metrics)
    assert metrics["reliability"] and metrics["roc_auc"] > 0.7


def test_predict_one_user_and_many(churn_tenant):
    org = churn_tenant.org
    with churn_tenant.client() as client:
        one = ok(_predict(client, org, {"user_id": "u00002"}))
        many = ok(_predict(client, org, {"user_ids": ["u00002", "u00003", "nobody"]}))
        ghost = ok(_predict(client, org, {"user_id": "ghost"}))
    assert one["model"] == f"{org}/churn" and one["version"] == 1 and one["no_history"] is False
    assert 0 <= one["probability"] <= 1 and len(one["reasons"]) == 3
    assert {"feature", "value", "contribution", "text"} <= set(one["reasons"][0])
    first, _, nobody = many["predictions"]
    assert first["probability"] == one["probability"]
    assert nobody["no_history"] is True and nobody["reasons"] == []
    assert ghost["no_history"] is True and ghost["probability"] == nobody["probability"]


def test_a_live_event_moves_the_prediction(churn_tenant):
    org = churn_tenant.org
    catalog = churn_tenant.catalog
    end = max(r["timestamp"] for r in catalog.interactions)
    gone = next(u["user_id"] for u in catalog.users if u["churned_at"] and u["churned_at"] < end - 200 * 86_400)
    with churn_tenant.client() as client:
        before = ok(_predict(client, org, {"user_id": gone}))
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"dataset": "events", "events": [
            {"event_id": f"back-{i}", "user_id": gone, "item_id": "m00001", "type": "play",
             "timestamp": end - i * 3600} for i in range(1, 6)]}))
        after = ok(_predict(client, org, {"user_id": gone}))
    recency = {r["feature"]: r for r in before["reasons"]}
    assert before["probability"] > after["probability"], (before, after)
    assert "days_since_last" not in recency or recency["days_since_last"]["value"] > 100


def test_score_ranks_every_known_user(churn_tenant):
    with churn_tenant.client() as client:
        scored = ok(client.post(f"/v1/models/{churn_tenant.org}/churn:score", json={"limit": 10}))
    assert len(scored["users"]) == 10 and scored["total"] >= 200
    probabilities = [u["probability"] for u in scored["users"]]
    assert probabilities == sorted(probabilities, reverse=True) and scored["users"][0]["rank"] == 1


def _score_job(client, org: str, **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "predict-behaviour/score-users", **fields})


def test_a_scoring_job_stores_the_ranked_list_as_a_dataset_that_downloads(churn_tenant):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    org = churn_tenant.org
    with churn_tenant.client() as client:
        job = ok(_score_job(client, org, model="churn", params={"output_dataset": "at-risk"}))
        done = wait_for_job(client, org, job["id"], timeout_s=240)
        assert done["state"] == "succeeded", done["error"]
        everyone = ok(client.post(f"/v1/models/{org}/churn:score", json={"limit": 100_000}))
        stored = ok(client.get(f"/api/v1/orgs/{org}/datasets/at-risk/versions/{done['result']['dataset_version']}"))
        download = f"/api/v1/orgs/{org}/datasets/at-risk/versions/{stored['version']}/download"
        as_csv = client.get(download, params={"format": "csv"})
        as_parquet = client.get(download)
        top = ok(_score_job(client, org, model="churn", params={"output_dataset": "at-risk", "limit": 5,
                                                                 "version": 1}))
        top_done = wait_for_job(client, org, top["id"], timeout_s=240)
    assert done["result"] == {**done["result"], "dataset": "at-risk", "model": f"{org}/churn", "version": 1,
                              "rows": everyone["total"]}
    assert stored["kind"] == "users" and stored["rows"] == everyone["total"]
    assert {"rank", "user_id", "probability", "top_reason", "reasons"} <= {c["name"] for c in stored["columns"]}
    # the worker's list is the one :score answers: same users, same order, same probabilities
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f'filename="{org}-at-risk-v{stored["version"]}.csv"' in as_csv.headers["content-disposition"]
    table = pacsv.read_csv(io.BytesIO(as_csv.content))
    assert table.column("user_id").to_pylist() == [u["user_id"] for u in everyone["users"]]
    assert table.column("probability").to_pylist() == pytest.approx([u["probability"] for u in everyone["users"]])
    assert table.column("rank").to_pylist() == list(range(1, everyone["total"] + 1))
    assert as_parquet.status_code == 200
    assert pq.read_table(io.BytesIO(as_parquet.content)).column("user_id").to_pylist() == \
        table.column("user_id").to_pylist()
    assert top_done["state"] == "succeeded" and top_done["result"]["dataset_version"] == stored["version"] + 1
    assert top_done["result"]["rows"] == 5 and top_done["result"]["summary"]["users_scored"] == everyone["total"]


@pytest.mark.parametrize(("fields", "status", "code"), [
    ({"model": "churn", "params": {}}, 400, "invalid_params"),
    ({"model": "churn", "params": {"output_dataset": "At Risk"}}, 400, "invalid_params"),
    ({"model": "churn", "params": {"output_dataset": "x", "as_of": "last tuesday"}}, 400, "invalid_params"),
    ({"model": "churn", "params": {"output_dataset": "x", "version": 99}}, 404, "not_found"),
    ({"model": "churn", "params": {"output_dataset": "x", "alias": "nightly"}}, 404, "not_found"),
    ({"model": "no-such-model", "params": {"output_dataset": "x"}}, 404, "not_found"),
    ({"model": "churn", "dataset": "events", "params": {"output_dataset": "x"}}, 400, "invalid_params"),
    ({"model": "churn", "promote": "production", "params": {"output_dataset": "x"}}, 400, "invalid_params"),
    ({"model": "churn", "params": {"output_dataset": "events"}}, 409, "conflict"),
])
def test_bad_scoring_jobs_are_refused_before_anything_is_queued(churn_tenant, fields, status, code):
    org = churn_tenant.org
    with churn_tenant.client() as client:
        before = ok(client.get(f"/api/v1/orgs/{org}/jobs"))["items"]
        response = _score_job(client, org, **fields)
        after = ok(client.get(f"/api/v1/orgs/{org}/jobs"))["items"]
    assert response.status_code == status and error_code(response) == code, response.text
    assert [j["id"] for j in after] == [j["id"] for j in before]


def test_downloads_refuse_unknown_versions_and_formats(churn_tenant):
    org = churn_tenant.org
    with churn_tenant.client() as client:
        missing = client.get(f"/api/v1/orgs/{org}/datasets/events/versions/9/download")
        odd = client.get(f"/api/v1/orgs/{org}/datasets/events/versions/1/download", params={"format": "xlsx"})
        events = client.get(f"/api/v1/orgs/{org}/datasets/events/versions/1/download", params={"format": "csv"})
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    assert odd.status_code == 422
    rows = list(csv.DictReader(io.StringIO(events.text)))
    assert events.status_code == 200 and len(rows) == len(churn_tenant.catalog.interactions)
    assert {r["user_id"] for r in rows} == {e["user_id"] for e in churn_tenant.catalog.interactions}


@pytest.mark.parametrize("body", [{}, {"user_id": 5}, {"user_id": ""}, {"user_id": "u1", "colour": "red"},
                                  {"user_ids": []}, {"user_ids": "u1"}, {"user_id": "u1", "user_ids": ["u2"]},
                                  {"user_id": "u1", "as_of": "last tuesday"}])
def test_bad_predict_requests_are_422(churn_tenant, body):
    with churn_tenant.client() as client:
        response = _predict(client, churn_tenant.org, body)
    assert response.status_code == 422 and error_code(response) == "validation_failed"


def test_cutoffs_outside_the_data_are_refused_at_submission(churn_tenant):
    org = churn_tenant.org
    with churn_tenant.client() as client:
        jobs_before = ok(client.get(f"/api/v1/orgs/{org}/jobs"))
        for params in ({"cutoff": "2030-01-01"}, {"cutoff": "1999-01-01"}, {"cutoff": "2024-12-20"},
                       {"cutoff": "2024-11-01", "cutoffs": ["2024-10-25"]}):
            response = client.post(f"/api/v1/orgs/{org}/jobs", json={
                "recipe": "predict-behaviour/churn", "dataset": "events", "model": "churn2",
                "params": {"horizon_days": 30, **params}})
            assert response.status_code == 422, response.text
            assert error_code(response) == "cutoff_out_of_range"
            details = response.json()["error"]["details"]
            assert details["data_start"].startswith("2024-") and details["data_end"].startswith("2024-12-31")
        jobs_after = ok(client.get(f"/api/v1/orgs/{org}/jobs"))
    assert len(jobs_after["items"]) == len(jobs_before["items"])  # nothing queued


def test_another_orgs_behaviour_model_is_not_found(churn_tenant, sqlite_server):
    stranger = new_tenant(sqlite_server)
    with stranger.client() as client:
        for verb in ("predict", "score"):
            response = client.post(f"/v1/models/{churn_tenant.org}/churn:{verb}", json={"user_id": "u00002"}
                                   if verb == "predict" else {})
            assert response.status_code == 404 and error_code(response) == "not_found"


def test_next_action_with_profiles_through_the_sdk(churn_tenant):
    from limelight.client import Client

    with Client(churn_tenant.server.url, churn_tenant.key, timeout=30) as client:
        job = client.jobs.submit(churn_tenant.org, "predict-behaviour/next-action", "buyers", dataset="events",
                                 users_dataset="people", params={"event_type": "purchase", "horizon_days": 90,
                                                                 "num_boost_round": 10})
        done = client.jobs.wait(churn_tenant.org, job.id, timeout_s=240, poll_interval_s=0.2)
    assert done.state.value == "succeeded", done.error
    with churn_tenant.client() as http:
        version = ok(http.get(f"/api/v1/orgs/{churn_tenant.org}/models/buyers/versions/1"))
    assert "profile.plan" in version["signature"]["features"] and "days_since_target" in version["signature"]["features"]


def test_a_users_dataset_of_another_kind_is_refused(churn_tenant):
    with churn_tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{churn_tenant.org}/jobs", json={
            "recipe": "predict-behaviour/churn", "dataset": "events", "users_dataset": "events", "model": "x"})
    assert response.status_code == 400 and response.json()["error"]["details"]["field"] == "users_dataset"


@pytest.mark.parametrize("body", [
    {"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [1], "data": ["u00002"]}]},
    {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1.0, 2.0]}]},
])
def test_kserve_v2_tensors_on_a_behaviour_model_are_a_clear_422(churn_tenant, body):
    with churn_tenant.client() as client:
        response = client.post(f"/v2/models/{churn_tenant.org}.churn/infer", json=body)
    assert response.status_code == 422 and "validation_failed" in response.text
