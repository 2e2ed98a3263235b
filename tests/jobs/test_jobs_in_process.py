"""The rules of job submission, cancel and retry, through the whole app in process (no worker runs,
so a submitted job stays queued until the test acts on it), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import error_code, tabular_csv
from tests.support.in_process import InProcessApp, add_tenant, in_process_app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[InProcessApp]:
    with in_process_app(tmp_path, db_url) as app:
        response = app.client.post(f"/api/v1/orgs/{app.org}/datasets", files={"file": ("churn.csv", tabular_csv(60))},
                                   data={"name": "churn", "kind": "tabular"})
        assert response.status_code == 201, response.text
        yield app


def _submit(app: InProcessApp, **body: object) -> dict:  # type: ignore[type-arg]
    body = {"recipe": "classify/lightgbm", "dataset": "churn", "model": "churn-gbm", **body}
    response = app.client.post(f"/api/v1/orgs/{app.org}/jobs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_bad_job_requests_get_clear_4xx(app: InProcessApp) -> None:
    jobs = f"/api/v1/orgs/{app.org}/jobs"
    unknown = app.client.post(jobs, json={"recipe": "nope/none", "dataset": "churn", "model": "m"})
    bad_param = app.client.post(jobs, json={"recipe": "classify/lightgbm", "dataset": "churn", "model": "m",
                                            "params": {"learning_rate": -1}})
    extra_param = app.client.post(jobs, json={"recipe": "classify/lightgbm", "dataset": "churn", "model": "m",
                                              "params": {"bogus": 1}})
    no_dataset = app.client.post(jobs, json={"recipe": "classify/lightgbm", "dataset": "nope", "model": "m"})
    wrong_kind = app.client.post(jobs, json={"recipe": "recommend/als", "dataset": "churn", "model": "m"})
    unknown_job = app.client.get(f"{jobs}/{'f' * 32}")
    assert unknown.status_code == 400 and error_code(unknown) == "invalid_params"
    assert bad_param.status_code == 400
    assert bad_param.json()["error"]["details"]["fields"][0]["field"] == "params.learning_rate"
    assert extra_param.status_code == 400
    assert no_dataset.status_code == 404
    assert 400 <= wrong_kind.status_code < 500 and "tabular" in wrong_kind.text
    assert unknown_job.status_code == 404


def test_a_queued_job_is_cancelled_at_once_and_can_be_retried(app: InProcessApp) -> None:
    job = _submit(app, max_attempts=2)
    base = f"/api/v1/orgs/{app.org}/jobs/{job['id']}"
    assert job["state"] == "queued" and job["max_attempts"] == 2
    early_retry = app.client.post(f"{base}/retry")
    cancelled = app.client.post(f"{base}/cancel").json()
    retried = app.client.post(f"{base}/retry").json()
    assert early_retry.status_code == 409  # only an ended job can be retried
    assert cancelled["state"] == "cancelled"
    assert retried["state"] == "queued" and retried["error"] is None


def test_a_job_of_another_org_is_not_found_anywhere(app: InProcessApp) -> None:
    job = _submit(app)
    other_key = add_tenant(app, "rival", "rival-owner")
    client = app.as_key(other_key)
    for method, path in (("GET", f"/api/v1/orgs/{app.org}/jobs/{job['id']}"),
                         ("POST", f"/api/v1/orgs/{app.org}/jobs/{job['id']}/cancel"),
                         ("GET", f"/api/v1/orgs/rival/jobs/{job['id']}"),
                         ("POST", f"/api/v1/orgs/rival/jobs/{job['id']}/cancel")):
        response = client.request(method, path)
        assert response.status_code == 404, (method, path, response.status_code)
    listed = client.get("/api/v1/orgs/rival/jobs").json()["items"]
    assert listed == []


def test_jobs_list_in_pages_newest_first(app: InProcessApp) -> None:
    made = [_submit(app, model=f"m{i}")["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = app.client.get(f"/api/v1/orgs/{app.org}/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    bad = app.client.get(f"/api/v1/orgs/{app.org}/jobs", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
