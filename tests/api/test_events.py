"""Live events: batches, idempotency, limits, durability, and forgetting an end user."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from tests.support.factories import error_code, interactions_csv, new_tenant, ok


@pytest.fixture(scope="module")
def tenant(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def _events(n: int, prefix: str = "e", user: str = "u1") -> list[dict]:  # type: ignore[type-arg]
    return [{"event_id": f"{prefix}{i}", "user_id": user, "item_id": f"i{i % 7}", "type": "play",
             "timestamp": 1_700_000_000 + i} for i in range(n)]


def test_batch_is_stored_and_idempotent_by_event_id(tenant, database_rows):
    with tenant.client() as client:
        first = ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _events(50, "idem")}))
        again = ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _events(60, "idem")}))
    assert first == {"accepted": 50, "duplicates": 0, "dataset": None}
    assert again == {"accepted": 10, "duplicates": 50, "dataset": None}
    stored = database_rows(tenant.server, "SELECT count(*) FROM events e JOIN orgs o ON o.id = e.org_id "
                                          "WHERE o.name = :org AND e.event_id LIKE 'idem%'", org=tenant.org)
    assert stored[0][0] == 60


def test_duplicates_inside_one_batch_count_once(tenant):
    batch = _events(5, "dup") + _events(5, "dup")
    with tenant.client() as client:
        result = ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": batch}))
    assert result == {"accepted": 5, "duplicates": 5, "dataset": None}


@pytest.mark.parametrize("body, code", [
    ({"events": []}, "validation_failed"),
    ({}, "validation_failed"),
    ({"events": [{"event_id": "x", "user_id": "u", "item_id": "i", "type": "teleport"}]}, "validation_failed"),
    ({"events": [{"event_id": "", "user_id": "u", "item_id": "i", "type": "play"}]}, "validation_failed"),
    ({"events": [{"event_id": "x", "user_id": "u", "item_id": "i", "type": "play", "timestamp": -5}]},
     "validation_failed"),
])
def test_malformed_batches_get_422_and_store_nothing(tenant, body, code):
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", json=body)
    assert response.status_code == 422 and error_code(response) == code


def test_not_json_gets_4xx(tenant):
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", content=b"{not json",
                               headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_over_10000_events_get_413(tenant):
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _events(10_001, "big")})
        fits = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _events(10_000, "fits")})
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
    assert ok(fits)["accepted"] == 10_000


def test_forget_end_user_removes_events_and_dataset_rows_and_flags_models(tenant, database_rows):
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("views.csv", interactions_csv())},
                       data={"name": "forget-views", "kind": "interactions"}))
        before = ok(client.get(f"/api/v1/orgs/{org}/datasets/forget-views"))["latest"]
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "forget-recs", "task": "recommend"}))
        ok(client.post(f"/api/v1/orgs/{org}/events", json={"events": _events(3, "fg", user="u3")}))
        result = ok(client.delete(f"/api/v1/orgs/{org}/end-users/u3"))
        after = ok(client.get(f"/api/v1/orgs/{org}/datasets/forget-views"))["latest"]
        model = ok(client.get(f"/api/v1/orgs/{org}/models/forget-recs"))
    assert result["events_deleted"] == 3
    assert result["dataset_rows_deleted"] == 8
    assert after["rows"] == before["rows"] - 8 and after["sha256"] != before["sha256"]
    assert f"{org}/forget-recs" in result["models_flagged"] and model["needs_retraining"] is True
    from limelight.artifacts.registry import open_store

    store = open_store(tenant.server.env["LIMELIGHT_ARTIFACTS_URL"])
    table = pq.read_table(io.BytesIO(store.local_path(after["sha256"]).read_bytes()))
    assert "u3" not in set(table.column("user_id").to_pylist())
    assert not store.exists(before["sha256"])
    left = database_rows(tenant.server, "SELECT count(*) FROM events e JOIN orgs o ON o.id = e.org_id "
                                        "WHERE o.name = :org AND e.user_id = 'u3'", org=org)
    assert left[0][0] == 0


def test_events_need_write_scope(tenant):
    with tenant.client() as owner:
        ro = ok(owner.post("/api/v1/keys", json={"name": "ro", "org": tenant.org, "scopes": ["read", "predict"]}))
    with tenant.server.client(ro["key"]) as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": _events(1, "ro")})
    assert response.status_code == 403
