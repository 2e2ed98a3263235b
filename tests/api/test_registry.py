"""Model registry through a real server: versions, safe formats, aliases, delete rules."""

from __future__ import annotations

import io
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.support.factories import (
    error_code,
    lightgbm_model_bytes,
    new_tenant,
    npz_bytes,
    ok,
    skops_model_bytes,
)


@pytest.fixture(scope="module")
def tenant(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def _upload(client, org: str, name: str, payload: bytes, meta: dict | None = None, filename: str = "model.bin"):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/api/v1/orgs/{org}/models/{name}/versions", files={"file": (filename, payload)},
                       data={"meta": json.dumps(meta or {"runtime": "sklearn"})})


def test_versions_are_numbered_immutable_and_content_addressed(tenant):
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "churn", "task": "classify",
                                                                   "description": "who leaves", "tags": ["churn"]}))
        payload = skops_model_bytes()
        v1 = ok(_upload(client, tenant.org, "churn", payload, {"runtime": "sklearn", "metrics": {"auc": 0.9},
                                                                "params": {"C": 1.0}}))
        v2 = ok(_upload(client, tenant.org, "churn", lightgbm_model_bytes(), {"runtime": "lightgbm"}))
        model = ok(client.get(f"/api/v1/orgs/{tenant.org}/models/churn"))
    import hashlib

    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["sha256"] == hashlib.sha256(payload).hexdigest() and v1["size_bytes"] == len(payload)
    assert v1["format"] == "skops" and v2["format"] == "lightgbm"
    assert v1["metrics"] == {"auc": 0.9} and v1["params"] == {"C": 1.0}
    assert model["latest_version"] == 2


@pytest.mark.parametrize("kind", ["pickle", "joblib", "torch-zip", "unknown"])
def test_unsafe_artifacts_are_refused_with_415_and_nothing_registered(tenant, kind):
    payloads = {
        "pickle": pickle.dumps({"weights": [1, 2, 3]}),
        "joblib": _joblib_bytes(),
        "torch-zip": _zip_with_pickle(),
        "unknown": b"\x00\x01garbage" * 100,
    }
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": f"unsafe-{kind}", "task": "classify"}))
        response = _upload(client, tenant.org, f"unsafe-{kind}", payloads[kind])
        model = ok(client.get(f"/api/v1/orgs/{tenant.org}/models/unsafe-{kind}"))
    assert response.status_code == 415, response.text
    assert error_code(response) == "unsafe_artifact_format"
    assert model["latest_version"] == 0


def _joblib_bytes() -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"a": np.arange(3)}, buffer)
    return buffer.getvalue()


def _zip_with_pickle() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"x": 1}))
    return buffer.getvalue()


def test_bad_version_meta_names_the_field(tenant):
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "meta", "task": "classify"}))
        missing = client.post(f"/api/v1/orgs/{tenant.org}/models/meta/versions", files={"file": ("m", npz_bytes())})
        wrong = _upload(client, tenant.org, "meta", npz_bytes(), {"runtime": 5, "bogus": 1})
        not_multipart = client.post(f"/api/v1/orgs/{tenant.org}/models/meta/versions", json={"x": 1})
    assert missing.status_code == 422 and missing.json()["error"]["details"]["field"] == "meta"
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"].startswith("meta.")
    assert not_multipart.status_code == 415


def test_aliases_move_atomically_and_protect_versions(tenant):
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "recs", "task": "recommend"}))
        for _ in range(3):
            ok(_upload(client, org, "recs", lightgbm_model_bytes(), {"runtime": "lightgbm"}))
        ok(client.put(f"/api/v1/orgs/{org}/models/recs/aliases/production", json={"version": 1}))
        ok(client.put(f"/api/v1/orgs/{org}/models/recs/aliases/staging", json={"version": 2}))
        moved = ok(client.put(f"/api/v1/orgs/{org}/models/recs/aliases/production", json={"version": 3}))
        assert moved["aliases"] == {"production": 3, "staging": 2}
        blocked = client.delete(f"/api/v1/orgs/{org}/models/recs/versions/3")
        assert blocked.status_code == 409 and error_code(blocked) == "in_use"
        assert client.post(f"/api/v1/orgs/{org}/models/recs/versions/2/archive").status_code == 409
        assert client.delete(f"/api/v1/orgs/{org}/models/recs/versions/1").status_code == 204
        assert client.get(f"/api/v1/orgs/{org}/models/recs/versions/1").status_code == 404
        assert client.put(f"/api/v1/orgs/{org}/models/recs/aliases/production", json={"version": 99}).status_code == 404
        bad_alias = client.put(f"/api/v1/orgs/{org}/models/recs/aliases/Bad%20Alias", json={"version": 2})
        assert bad_alias.status_code == 422 and error_code(bad_alias) == "validation_failed"  # a path Name
        ok(client.delete(f"/api/v1/orgs/{org}/models/recs/aliases/staging"))
        assert ok(client.get(f"/api/v1/orgs/{org}/models/recs"))["aliases"] == {"production": 3}


def test_concurrent_registrations_get_unique_consecutive_versions(tenant):
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "race", "task": "classify"}))

    def register(_: int) -> int:
        with tenant.client() as c:
            return int(ok(_upload(c, org, "race", lightgbm_model_bytes(), {"runtime": "lightgbm"}))["version"])

    with ThreadPoolExecutor(8) as pool:
        numbers = sorted(pool.map(register, range(20)))
    assert numbers == list(range(1, 21))


def test_names_and_traversal_attempts_are_refused(tenant):
    with tenant.client() as client:
        for name in ("../x", "UPPER", "a" * 65, "-lead", "x/y", "%2e%2e"):
            response = client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": name, "task": "classify"})
            assert response.status_code == 422, name
        for path in ("/api/v1/orgs/%2e%2e/models", f"/api/v1/orgs/{tenant.org}/models/%2e%2e%2f%2e%2e",
                     f"/api/v1/orgs/{tenant.org}/models/..%2f..%2fetc", f"/api/v1/orgs/{tenant.org}/datasets/%2fetc%2fpasswd"):
            response = client.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code)


def test_model_card_and_visibility_need_maintainer_and_are_audited(tenant, server):
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "carded", "task": "classify"}))
        updated = ok(client.patch(f"/api/v1/orgs/{org}/models/carded",
                                  json={"card": "# Card\nTrained on views.", "visibility": "public"}))
        audit = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "model.update"}))["items"]
    assert updated["visibility"] == "public" and updated["card"].startswith("# Card")
    assert audit[0]["object_id"] == f"{org}/carded" and audit[0]["details"]["visibility"] == "public"
