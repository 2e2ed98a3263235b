"""Usage reports through a real server: requests and errors per period and model from the calls the
server really metered, compute seconds of a real job, storage counted once per blob, CSV, bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.support.factories import error_code, new_tenant, ok, skops_model_bytes, tabular_csv
from tests.support.job_events import follow_job
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def busy(server):  # type: ignore[no-untyped-def]
    """An org that served 4 predictions (one refused as bad input) and trained one model."""
    tenant = new_tenant(server)
    org = tenant.org
    model_file = skops_model_bytes()
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "scorer", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{org}/models/scorer/versions", files={"file": ("m.skops", model_file)},
                       data={"meta": '{"runtime": "sklearn"}'}))
        for _ in range(3):
            ok(client.post(f"/v1/models/{org}/scorer:predict", json={"inputs": [[0.1, 0.2, 0.3]]}))
        assert client.post(f"/v1/models/{org}/scorer:predict", json={"inputs": "nope"}).status_code == 422
        data = ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("churn.csv", tabular_csv())},
                              data={"name": "churn", "kind": "tabular"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "classify/lightgbm", "dataset": "churn",
                                                                 "model": "gbm", "params": {"num_boost_round": 20}}))
        done = follow_job(client, org, job["id"], timeout_s=180)
        assert done["state"] == "succeeded"
        gbm = ok(client.get(f"/api/v1/orgs/{org}/models/gbm/versions/1"))
    tenant.expected_artifact_bytes = len(model_file) + gbm["size_bytes"]  # type: ignore[attr-defined]
    tenant.expected_dataset_bytes = data["size_bytes"]  # type: ignore[attr-defined]
    tenant.job = done  # type: ignore[attr-defined]
    return tenant


def _usage(tenant, **params):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.get(f"/api/v1/orgs/{tenant.org}/usage", params=params)


_eventually = eventually  # usage counts reach the store every monitoring.flush_interval_s (0.2 s here)


def test_the_report_counts_what_was_served_computed_and_stored(busy):
    assert _eventually(lambda: ok(_usage(busy, days=2))["models"][:1] and
                       ok(_usage(busy, days=2))["models"][0]["requests"] == 4)
    report = ok(_usage(busy, days=2))
    today = report["periods"][-1]
    assert len(report["periods"]) == 2 and report["granularity"] == "day"
    assert datetime.fromisoformat(today["start"]).date() == datetime.now(UTC).date()
    assert (today["requests"], today["client_errors"], today["server_errors"]) == (4, 1, 0)
    assert report["models"] == [{"model": f"{busy.org}/scorer", "requests": 4, "client_errors": 1, "server_errors": 0,
                                 "prompt_tokens": 0, "completion_tokens": 0}]
    assert today["jobs"] == 1 and 0 < today["compute_seconds"] < 180
    assert report["storage"] == {"artifact_bytes": busy.expected_artifact_bytes,
                                 "dataset_bytes": busy.expected_dataset_bytes}
    assert report["inference_kept_days"] == 400  # metering.retention_days: 13 months
    hourly = ok(_usage(busy, days=1, granularity="hour"))
    assert len(hourly["periods"]) == 24 and sum(p["requests"] for p in hourly["periods"]) == 4


def test_the_csv_export_has_a_row_per_period_and_quantity(busy):
    answer = _usage(busy, days=3, format="csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert f'{busy.org}-usage-day.csv' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    requests = [r for r in rows if r["quantity"] == "requests"]
    assert len(requests) == 3 and sum(int(r["value"]) for r in requests) == 4
    assert {(r["model"], r["value"]) for r in rows if r["quantity"] == "requests_in_window"} == {
        (f"{busy.org}/scorer", "4")}
    assert [int(r["value"]) for r in rows if r["quantity"] == "artifact_bytes"] == [busy.expected_artifact_bytes]


def test_bad_windows_and_other_orgs_are_refused(server, busy):
    long_hourly = _usage(busy, days=15, granularity="hour")
    assert long_hourly.status_code == 400 and error_code(long_hourly) == "invalid_params"
    for params in ({"days": 0}, {"days": 401}, {"granularity": "minute"}, {"format": "xml"}):
        assert _usage(busy, **params).status_code == 422, params
    outsider = new_tenant(server)
    with outsider.client() as client:
        foreign = client.get(f"/api/v1/orgs/{busy.org}/usage")
    assert foreign.status_code == 404 and error_code(foreign) == "not_found"

