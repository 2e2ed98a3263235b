"""Caller-keyed metering and quotas through a real server: a shared model's calls count for the org
that called, a small request quota ends in 429 with headers counting down, compute and storage
quotas refuse with 403 and leave nothing behind, and only a system admin sets quotas."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.factories import error_code, new_tenant, ok, skops_model_bytes, tabular_csv
from tests.support.live_server import LiveServer
from tests.support.polling import eventually

PREDICT_BODY = {"inputs": [[0.1, 0.2, 0.3]]}


# counts reach the store every monitoring.flush_interval_s (0.2 s here); quotas are re-read every 2 s
_eventually = eventually


def _model_with_a_version(client: httpx.Client, org: str, name: str) -> None:
    ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": name, "task": "classify"}))
    ok(client.post(f"/api/v1/orgs/{org}/models/{name}/versions", files={"file": ("m.skops", skops_model_bytes())},
                   data={"meta": '{"runtime": "sklearn"}'}))


def _set_quotas(server: LiveServer, org: str, **limits: int | float) -> dict[str, Any]:
    with server.client() as admin:  # the system admin
        return ok(admin.put(f"/api/v1/orgs/{org}/quotas", json=limits))


def _usage_models(client: httpx.Client, org: str) -> dict[str, dict[str, Any]]:
    return {m["model"]: m for m in ok(client.get(f"/api/v1/orgs/{org}/usage", params={"days": 1}))["models"]}


def test_a_shared_models_calls_are_metered_to_the_caller_not_the_owner(server: LiveServer) -> None:
    owner, caller = new_tenant(server), new_tenant(server)
    with owner.client() as client:
        _model_with_a_version(client, owner.org, "private-scorer")
        ok(client.put(f"/api/v1/orgs/{owner.org}/models/private-scorer/shares/{caller.org}", json={"access": "invoke"}))
    with caller.client() as client:
        for _ in range(2):
            ok(client.post(f"/v1/models/{owner.org}/private-scorer:predict", json=PREDICT_BODY))
        assert client.post(f"/v1/models/{owner.org}/private-scorer:predict", json={"inputs": "x"}).status_code == 422
        ref = f"{owner.org}/private-scorer"
        assert _eventually(lambda: _usage_models(client, caller.org).get(ref, {}).get("requests") == 3)
        mine = _usage_models(client, caller.org)[ref]
        assert (mine["requests"], mine["client_errors"], mine["server_errors"]) == (3, 1, 0)
        report = ok(client.get(f"/api/v1/orgs/{caller.org}/usage", params={"days": 1}))
        assert report["periods"][-1]["requests"] == 3 and report["inference_kept_days"] == 400
    with owner.client() as client:
        assert _eventually(lambda: ok(client.get(f"/api/v1/orgs/{owner.org}/monitoring"))["stats"]["requests"] >= 3)
        assert _usage_models(client, owner.org) == {}  # the owner called nothing itself
        assert ok(client.get(f"/api/v1/orgs/{owner.org}/usage", params={"days": 1}))["periods"][-1]["requests"] == 0


def test_a_used_up_request_quota_answers_429_with_the_allowance_in_headers(server: LiveServer) -> None:
    tenant = new_tenant(server)
    with tenant.client() as client:
        _model_with_a_version(client, tenant.org, "scorer")
        ok(client.post(f"/v1/models/{tenant.org}/scorer:predict", json=PREDICT_BODY))  # no quota yet: no headers
        assert _eventually(lambda: ok(client.get(f"/api/v1/orgs/{tenant.org}/quotas"))
                           ["used"]["requests_per_month"] == 1)
        _set_quotas(server, tenant.org, requests_per_month=4)
        # a call of a missing model is not metered, and shows when the API process has read the quota
        missing = f"/v1/models/{tenant.org}/no-such-model:predict"
        assert _eventually(lambda: "x-quota-requests-limit" in client.post(missing, json=PREDICT_BODY).headers)
        _, next_month = _month_bounds()
        remaining = []
        for _ in range(3):
            answer = client.post(f"/v1/models/{tenant.org}/scorer:predict", json=PREDICT_BODY)
            assert answer.status_code == 200
            assert answer.headers["x-quota-requests-limit"] == "4"
            assert answer.headers["x-quota-reset"] == str(next_month)
            remaining.append(int(answer.headers["x-quota-requests-remaining"]))
        assert remaining == [2, 1, 0]
        refused = client.post(f"/v1/models/{tenant.org}/scorer:predict", json=PREDICT_BODY)
        assert refused.status_code == 429 and error_code(refused) == "quota_exceeded"
        assert refused.json()["error"]["details"] | {"resets_at": None} == {
            "quota": "requests_per_month", "limit": 4, "used": 4, "resets_at": None}
        assert abs(int(refused.headers["retry-after"]) - (next_month - time.time())) < 60
        assert refused.headers["x-quota-requests-remaining"] == "0"
        openai = client.post("/v1/chat/completions", json={"model": f"{tenant.org}/scorer", "messages": []})
        assert openai.status_code == 429  # every protocol: the quota is checked before the model is
        quotas = _eventually(lambda: (q := ok(client.get(f"/api/v1/orgs/{tenant.org}/quotas")))
                             ["used"]["requests_per_month"] == 4 and q)
        assert quotas["limits"]["requests_per_month"] == 4 and quotas["remaining"]["requests_per_month"] == 0
        assert datetime.fromisoformat(quotas["resets_at"]).timestamp() == next_month
    _set_quotas(server, tenant.org)  # unlimited again: the org may call, and the headers go away
    with tenant.client() as client:
        answer = _eventually(lambda: (a := client.post(f"/v1/models/{tenant.org}/scorer:predict",
                                                       json=PREDICT_BODY)).status_code == 200 and a)
        assert "x-quota-requests-limit" not in answer.headers


def test_compute_and_storage_quotas_refuse_with_403_and_store_nothing(server: LiveServer) -> None:
    tenant = new_tenant(server)
    _set_quotas(server, tenant.org, compute_seconds_per_month=0, storage_bytes=0)
    with tenant.client() as client:
        job = client.post(f"/api/v1/orgs/{tenant.org}/jobs", json={"recipe": "classify/lightgbm", "dataset": "churn",
                                                                    "model": "gbm"})
        assert job.status_code == 403 and error_code(job) == "quota_exceeded"
        assert job.json()["error"]["details"] == {"quota": "compute_seconds_per_month", "limit": 0.0, "used": 0.0}
        fork = client.post(f"/api/v1/orgs/{tenant.org}/models/anything/fork",
                           json={"org": tenant.org, "name": "mine", "retrain": {"dataset": "churn"}})
        assert fork.status_code == 403 and error_code(fork) == "quota_exceeded"
        full = client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("churn.csv", tabular_csv())},
                           data={"name": "churn", "kind": "tabular"})
        assert full.status_code == 403 and error_code(full) == "quota_exceeded"  # refused before the body
        assert full.json()["error"]["details"]["quota"] == "storage_bytes"
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "scorer", "task": "classify"}))
    model_file = skops_model_bytes()
    _set_quotas(server, tenant.org, storage_bytes=len(model_file) - 1)  # room, but not for this file
    with tenant.client() as client:
        upload = client.post(f"/api/v1/orgs/{tenant.org}/models/scorer/versions",
                             files={"file": ("m.skops", model_file)}, data={"meta": '{"runtime": "sklearn"}'})
        assert upload.status_code == 403 and error_code(upload) == "quota_exceeded"
        assert upload.json()["error"]["details"] == {"quota": "storage_bytes", "limit": len(model_file) - 1,
                                                     "used": 0, "adding": len(model_file)}
        data = client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("churn.csv", tabular_csv(2000))},
                           data={"name": "churn", "kind": "tabular"})
        assert data.status_code == 403 and error_code(data) == "quota_exceeded"  # refused once its size is known
        assert ok(client.get(f"/api/v1/orgs/{tenant.org}/models/scorer/versions"))["items"] == []
        assert ok(client.get(f"/api/v1/orgs/{tenant.org}/datasets"))["items"] == []
        quotas = ok(client.get(f"/api/v1/orgs/{tenant.org}/quotas"))
        assert quotas["used"]["storage_bytes"] == 0 and quotas["remaining"]["storage_bytes"] == len(model_file) - 1
    _set_quotas(server, tenant.org, storage_bytes=len(model_file))
    with tenant.client() as client:  # exactly enough room
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models/scorer/versions", files={"file": ("m.skops", model_file)},
                       data={"meta": '{"runtime": "sklearn"}'}))
    with server.client() as admin:  # a quota below what is already stored cannot take effect
        below = admin.put(f"/api/v1/orgs/{tenant.org}/quotas", json={"storage_bytes": len(model_file) - 1})
        assert below.status_code == 409 and error_code(below) == "quota_below_usage"
        assert below.json()["error"]["details"]["below"] == {
            "storage_bytes": {"limit": len(model_file) - 1, "used": len(model_file)}}
        kept = ok(admin.get(f"/api/v1/orgs/{tenant.org}/quotas"))
    assert kept["limits"]["storage_bytes"] == len(model_file)  # unchanged


def test_only_a_system_admin_sets_quotas_and_other_orgs_quotas_are_missing(server: LiveServer) -> None:
    tenant, outsider = new_tenant(server), new_tenant(server)
    with tenant.client() as client:  # the org's owner, not a system admin
        mine = ok(client.get(f"/api/v1/orgs/{tenant.org}/quotas"))
        assert mine["limits"] == {"requests_per_month": None, "compute_seconds_per_month": None, "storage_bytes": None}
        assert mine["remaining"]["requests_per_month"] is None and mine["updated_by"] is None
        refused = client.put(f"/api/v1/orgs/{tenant.org}/quotas", json={"requests_per_month": 10 ** 9})
        assert refused.status_code == 403 and error_code(refused) == "forbidden"
        for method in ("GET", "PUT"):
            foreign = client.request(method, f"/api/v1/orgs/{outsider.org}/quotas", json={})
            assert foreign.status_code == 404 and error_code(foreign) == "not_found"
    assert _set_quotas(server, tenant.org, requests_per_month=1000)["updated_by"] == server.admin_user
    with server.client() as admin:
        missing = admin.put("/api/v1/orgs/no-such-org-zz/quotas", json={})
        assert missing.status_code == 404
        assert admin.put(f"/api/v1/orgs/{tenant.org}/quotas", json={"storage_bytes": -1}).status_code == 422
    with tenant.client() as client:
        entries = ok(client.get(f"/api/v1/orgs/{tenant.org}/audit"))["items"]
        assert any(e["action"] == "org.quotas.set" and e["details"]["requests_per_month"] == 1000 for e in entries)


def _month_bounds() -> tuple[int, int]:
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return int(start.timestamp()), int(following.timestamp())
