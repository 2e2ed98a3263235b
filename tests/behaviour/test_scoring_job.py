"""The batch-scoring job on both metadata stores: queued, run by a worker, its list registered as a
dataset version in the transaction that ends the job, downloadable; a cancelled one leaves nothing."""

from __future__ import annotations

import csv
import io

from tests.behaviour.data import audience
from tests.support.factories import new_tenant, ok, wait_for_job
from tests.support.local_context import parquet_bytes


def test_scoring_job_registers_a_dataset_version_on_either_store(server):
    catalog = audience(n_users=120)
    tenant = new_tenant(server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("e.parquet", parquet_bytes(catalog.interactions))},
                       data={"name": "events", "kind": "interactions"}))
        trained = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "predict-behaviour/churn", "dataset": "events", "model": "churn",
            "params": {"horizon_days": 30, "num_boost_round": 10}}))
        assert wait_for_job(client, org, trained["id"], timeout_s=240)["state"] == "succeeded"
        queued = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "predict-behaviour/score-users", "model": "churn",
            "params": {"output_dataset": "at-risk", "min_probability": 0.5}}))
        assert queued["dataset_version_id"] is None and queued["params"]["version"] == 1
        done = wait_for_job(client, org, queued["id"], timeout_s=240)
        listed = ok(client.get(f"/api/v1/orgs/{org}/datasets", params={"kind": "users"}))
        as_csv = client.get(f"/api/v1/orgs/{org}/datasets/at-risk/versions/1/download", params={"format": "csv"})
        audit = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "dataset.version.create"}))
    assert done["state"] == "succeeded", done["error"]
    assert [d["name"] for d in listed["items"]] == ["at-risk"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == done["result"]["rows"] > 0 and all(float(r["probability"]) >= 0.5 for r in rows)
    assert done["result"]["summary"]["users_kept"] == len(rows) <= done["result"]["summary"]["users_scored"]
    # the dataset version is recorded as made by the person who queued the job
    assert any(e["object_id"] == f"{org}/at-risk/1" and e["actor"] == f"user:{tenant.username}"
               for e in audit["items"])
