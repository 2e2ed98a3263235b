"""Authentication and authorization through a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.factories import error_code, new_tenant, ok


def test_unauthenticated_requests_get_401(server):
    with server.anonymous() as anon:
        for path in ("/api/v1/whoami", "/api/v1/orgs", f"/api/v1/orgs/{server.org}/models"):
            response = anon.get(path)
            assert response.status_code == 401
            assert error_code(response) == "unauthenticated"
            assert response.headers["www-authenticate"] == "Bearer"


def test_health_and_docs_are_public(server):
    with server.anonymous() as anon:
        assert anon.get("/healthz").json() == {"status": "alive"}
        assert anon.get("/readyz").status_code == 200
        spec = anon.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.")
        assert anon.get("/docs").status_code == 200


def test_malformed_and_unknown_keys_get_401(server):
    with server.anonymous() as anon:
        for header in ("Bearer nonsense", "Basic abc", "Bearer ll_" + "0" * 32 + "_" + "a" * 43):
            response = anon.get("/api/v1/whoami", headers={"Authorization": header})
            assert response.status_code == 401, header


def test_key_is_shown_once_and_stored_hashed(server, database_rows):
    with server.client() as client:
        created = ok(client.post("/api/v1/keys", json={"name": "ci", "org": server.org, "scopes": ["read"]}))
        listed = ok(client.get("/api/v1/keys"))["items"]
    assert created["key"].startswith("ll_")
    assert all("key" not in item for item in listed)
    stored = database_rows(server, "SELECT secret_hash FROM api_keys WHERE id = :id", id=created["id"])
    secret = created["key"].split("_", 2)[2]
    assert stored[0][0] != secret and len(stored[0][0]) == 64


def test_revoked_key_gets_401(server):
    with server.client() as client:
        created = ok(client.post("/api/v1/keys", json={"name": "temp", "org": server.org, "scopes": ["read"]}))
    with server.client(created["key"]) as temp:
        assert temp.get("/api/v1/whoami").status_code == 200
        with server.client() as client:
            ok(client.delete(f"/api/v1/keys/{created['id']}"))
        response = temp.get("/api/v1/whoami")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_expired_key_gets_401(server, database_rows):
    with server.client() as client:
        created = ok(client.post("/api/v1/keys", json={"name": "short", "org": server.org, "scopes": ["read"],
                                                        "expires_in_days": 1}))
    past = datetime.now(UTC) - timedelta(minutes=1)
    database_rows(server, "UPDATE api_keys SET expires_at = :t WHERE id = :id", t=past, id=created["id"])
    with server.client(created["key"]) as expired:
        response = expired.get("/api/v1/whoami")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_scopes_limit_what_a_key_does(server):
    tenant = new_tenant(server)
    with tenant.client() as owner:
        read_only = ok(owner.post("/api/v1/keys", json={"name": "ro", "org": tenant.org, "scopes": ["read"]}))
    with server.client(read_only["key"]) as client:
        assert client.get(f"/api/v1/orgs/{tenant.org}/models").status_code == 200
        response = client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "m", "task": "classify"})
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


def test_viewer_cannot_write_or_promote(server):
    owner = new_tenant(server)
    with owner.client() as client:
        ok(client.post(f"/api/v1/orgs/{owner.org}/models", json={"name": "m1", "task": "classify"}))
    viewer = _member_of(owner, "viewer")
    with server.client(viewer) as client:
        assert client.get(f"/api/v1/orgs/{owner.org}/models/m1").status_code == 200
        assert client.post(f"/api/v1/orgs/{owner.org}/models", json={"name": "m2", "task": "classify"}).status_code == 403
        assert client.put(f"/api/v1/orgs/{owner.org}/models/m1/aliases/production", json={"version": 1}).status_code == 403


def test_key_cannot_escalate_its_scopes(server):
    tenant = new_tenant(server)
    with tenant.client() as owner:
        ro = ok(owner.post("/api/v1/keys", json={"name": "ro", "org": tenant.org, "scopes": ["read"]}))
    with server.client(ro["key"]) as client:
        response = client.post("/api/v1/keys", json={"name": "x", "org": tenant.org, "scopes": ["read", "write"]})
    assert response.status_code == 403


def test_ui_session_needs_csrf_for_writes(server):
    tenant = new_tenant(server)
    with httpx.Client(base_url=server.url) as browser:
        login = ok(browser.post("/api/v1/auth/login", json={"username": tenant.username,
                                                             "password": "pw-" + "y" * 12, "org": tenant.org}))
        cookie = browser.cookies.get("limelight_session")
        assert cookie
        assert browser.get("/api/v1/whoami").json()["org"] == tenant.org
        refused = browser.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "csrf", "task": "classify"})
        assert refused.status_code == 403 and refused.json()["error"]["details"]["reason"] == "csrf"
        accepted = browser.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "csrf", "task": "classify"},
                                headers={"X-CSRF-Token": login["csrf_token"]})
        assert accepted.status_code == 201
        ok(browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login["csrf_token"]}))
        browser.cookies.set("limelight_session", cookie)
        assert browser.get("/api/v1/whoami").status_code == 401


def test_wrong_password_gets_401_without_saying_which_part(server):
    with server.anonymous() as anon:
        a = anon.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong-password"})
        b = anon.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "wrong-password"})
    assert a.status_code == b.status_code == 401
    assert a.json()["error"]["message"] == b.json()["error"]["message"]


def _member_of(owner, role: str) -> str:
    from tests.support.factories import ADMIN_SCOPES, _user_key, unique

    username = unique(role)
    with owner.server.client() as admin:
        ok(admin.post("/api/v1/users", json={"username": username, "password": "pw-" + "y" * 12}))
    with owner.client() as client:
        ok(client.post(f"/api/v1/orgs/{owner.org}/members", json={"username": username, "role": role}))
    return _user_key(owner.server, username, owner.org, ["read", "predict", "write"] if role != "owner" else ADMIN_SCOPES)
