"""Fork and retrain in one action: the fork is trained again on the forker's own data with the source's
recipe and parameters; lineage shows on both sides; a refused retrain leaves no fork behind."""

from __future__ import annotations

import pytest

from tests.support.factories import error_code, new_tenant, ok, skops_model_bytes, tabular_csv
from tests.support.job_events import follow_job

PARAMS = {"num_boost_round": 37, "learning_rate": 0.07}


def _upload(client, org: str, name: str, data: bytes, kind: str = "tabular"):  # type: ignore[no-untyped-def]
    return ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": (f"{name}.csv", data)},
                          data={"name": name, "kind": kind}))


@pytest.fixture(scope="module")
def parent(server):  # type: ignore[no-untyped-def]
    """A public LightGBM model trained by a recipe, and a public model uploaded as a file."""
    owner = new_tenant(server)
    with owner.client() as client:
        _upload(client, owner.org, "churn", tabular_csv(seed=1))
        job = ok(client.post(f"/api/v1/orgs/{owner.org}/jobs", json={
            "recipe": "classify/lightgbm", "dataset": "churn", "model": "churn_gbm", "promote": "production",
            "params": PARAMS}))
        assert follow_job(client, owner.org, job["id"], timeout_s=180)["state"] == "succeeded"
        ok(client.patch(f"/api/v1/orgs/{owner.org}/models/churn_gbm", json={"visibility": "public"}))
        ok(client.post(f"/api/v1/orgs/{owner.org}/models", json={"name": "uploaded", "task": "classify",
                                                                  "visibility": "public"}))
        ok(client.post(f"/api/v1/orgs/{owner.org}/models/uploaded/versions",
                       files={"file": ("m.skops", skops_model_bytes())}, data={"meta": '{"runtime": "sklearn"}'}))
    return owner


def test_fork_and_retrain_trains_the_copy_on_the_forkers_data_with_the_same_recipe(server, parent):
    forker = new_tenant(server)
    with forker.client() as client:
        _upload(client, forker.org, "my-churn", tabular_csv(rows=300, seed=9))
        parent_v1 = ok(client.get(f"/api/v1/orgs/{parent.org}/models/churn_gbm/versions/1"))
        forked = ok(client.post(f"/api/v1/orgs/{parent.org}/models/churn_gbm/fork", json={
            "org": forker.org, "name": "my-churn-model", "retrain": {"dataset": "my-churn", "promote": "production"}}))
        assert forked["forked_from"] == f"{parent.org}/churn_gbm@1" and forked["retrain_job"]
        done = follow_job(client, forker.org, forked["retrain_job"], timeout_s=180)
        job = ok(client.get(f"/api/v1/orgs/{forker.org}/jobs/{forked['retrain_job']}"))
        v2 = ok(client.get(f"/api/v1/orgs/{forker.org}/models/my-churn-model/versions/2"))
        lineage = ok(client.get(f"/api/v1/orgs/{parent.org}/models/churn_gbm/forks"))["items"]
    assert done["state"] == "succeeded"
    assert job["recipe"] == "classify/lightgbm"
    assert {k: job["params"][k] for k in PARAMS} == PARAMS
    assert v2["dataset_version_id"] == job["dataset_version_id"] != parent_v1["dataset_version_id"]
    assert v2["job_id"] == forked["retrain_job"] and v2["runtime"] == "lightgbm"
    assert [(m["org"], m["name"], m["forked_from"]) for m in lineage] == \
        [(forker.org, "my-churn-model", f"{parent.org}/churn_gbm@1")]
    with parent.client() as client:  # the parent's owner does not see another org's private fork
        assert ok(client.get(f"/api/v1/orgs/{parent.org}/models/churn_gbm/forks"))["items"] == []


def test_a_refused_retrain_leaves_no_fork_and_says_why(server, parent):
    forker = new_tenant(server)
    with forker.client() as client:
        _upload(client, forker.org, "events", b"user_id,item_id\nu1,i1\nu2,i2\n", kind="interactions")
        wrong_kind = client.post(f"/api/v1/orgs/{parent.org}/models/churn_gbm/fork",
                                 json={"org": forker.org, "retrain": {"dataset": "events"}})
        missing = client.post(f"/api/v1/orgs/{parent.org}/models/churn_gbm/fork",
                              json={"org": forker.org, "retrain": {"dataset": "nope"}})
        uploaded = client.post(f"/api/v1/orgs/{parent.org}/models/uploaded/fork",
                               json={"org": forker.org, "retrain": {"dataset": "events"}})
        models = [m["name"] for m in ok(client.get(f"/api/v1/orgs/{forker.org}/models"))["items"]]
        jobs = ok(client.get(f"/api/v1/orgs/{forker.org}/jobs"))["items"]
    assert wrong_kind.status_code == 400 and error_code(wrong_kind) == "invalid_params"
    assert missing.status_code == 404
    assert uploaded.status_code == 422 and error_code(uploaded) == "not_retrainable"
    assert models == [] and jobs == []  # nothing half-written


def test_a_private_model_forks_only_when_shared_to_read(server):
    owner, other = new_tenant(server), new_tenant(server)
    with owner.client() as client:
        ok(client.post(f"/api/v1/orgs/{owner.org}/models", json={"name": "inhouse", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{owner.org}/models/inhouse/versions",
                       files={"file": ("m.skops", skops_model_bytes())}, data={"meta": '{"runtime": "sklearn"}'}))
    fork = {"org": other.org, "name": "borrowed"}
    with other.client() as client:
        assert client.post(f"/api/v1/orgs/{owner.org}/models/inhouse/fork", json=fork).status_code == 404
    with owner.client() as client:
        ok(client.put(f"/api/v1/orgs/{owner.org}/models/inhouse/shares/{other.org}", json={"access": "invoke"}))
    with other.client() as client:
        assert client.post(f"/api/v1/orgs/{owner.org}/models/inhouse/fork", json=fork).status_code == 404
    with owner.client() as client:
        ok(client.put(f"/api/v1/orgs/{owner.org}/models/inhouse/shares/{other.org}", json={"access": "read"}))
    with other.client() as client:
        made = ok(client.post(f"/api/v1/orgs/{owner.org}/models/inhouse/fork", json=fork))
    assert made["forked_from"] == f"{owner.org}/inhouse@1" and made["visibility"] == "private"
