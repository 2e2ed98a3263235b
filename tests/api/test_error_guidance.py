"""A refusal names its real cause and the next step: the missing header, the missing scope, the role,
the org a key is bound to, where to list models. The status codes and the no-leak rule stay as they were."""

from __future__ import annotations

from tests.support.factories import error_code, new_tenant, ok


def _message(response) -> str:  # type: ignore[no-untyped-def]
    return str(response.json()["error"]["message"])


def test_a_missing_header_says_which_header_to_send(sqlite_server):
    with sqlite_server.anonymous() as anon:
        for path in ("/api/v1/whoami", "/v1/models/x/y:predict"):
            response = anon.post(path, json={}) if ":" in path else anon.get(path)
            assert response.status_code == 401 and error_code(response) == "unauthenticated"
            assert "Authorization: Bearer <api key>" in _message(response), path


def test_an_unknown_or_revoked_key_says_to_create_a_new_one(sqlite_server):
    with sqlite_server.client() as admin:
        created = ok(admin.post("/api/v1/keys", json={"name": "soon-gone", "org": sqlite_server.org, "scopes": ["read"]}))
        ok(admin.delete(f"/api/v1/keys/{created['id']}"))
    with sqlite_server.client(created["key"]) as revoked:
        response = revoked.get("/api/v1/whoami")
    assert response.status_code == 401 and "revoked" in _message(response)
    assert "limelight keys create" in _message(response)
    with sqlite_server.client("ll_" + "0" * 32 + "_" + "a" * 43) as unknown:
        response = unknown.get("/api/v1/whoami")
    assert response.status_code == 401 and "Unknown API key" in _message(response)
    assert "copied whole" in _message(response)


def test_a_key_without_the_scope_is_told_which_scope_it_lacks(sqlite_server):
    tenant = new_tenant(sqlite_server, scopes=["read"])
    with sqlite_server.client(tenant.key) as reader:
        write = reader.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "needs-write", "task": "classify"})
        call = reader.post(f"/v1/models/{tenant.org}/anything:predict", json={"inputs": [[1]]})
    assert write.status_code == 403 and error_code(write) == "forbidden"
    assert "lacks the write scope" in _message(write) and "it has: read" in _message(write)
    assert write.json()["error"]["details"]["missing_scope"] == "write"
    assert "--scope write" in _message(write)
    assert call.status_code == 403 and "lacks the predict scope" in _message(call)


def test_a_low_role_is_told_its_role_and_who_can_change_it(sqlite_server):
    viewer = new_tenant(sqlite_server, role="viewer", scopes=["read", "predict", "write"])
    with sqlite_server.client(viewer.key) as client:
        response = client.post(f"/api/v1/orgs/{viewer.org}/models", json={"name": "no-role", "task": "classify"})
    assert response.status_code == 403
    assert f"Your role in org '{viewer.org}' is viewer; this needs member" in _message(response)
    assert response.json()["error"]["details"] == {"permission": "org:write", "role": "viewer", "needs_role": "member"}


def test_a_system_admin_key_without_the_admin_scope_is_told_so(sqlite_server):
    with sqlite_server.client() as admin:
        key = ok(admin.post("/api/v1/keys", json={"name": "no-admin", "org": sqlite_server.org,
                                                  "scopes": ["read", "write"]}))["key"]
    with sqlite_server.client(key) as weak:
        response = weak.post("/api/v1/orgs", json={"name": "never-made"})
    assert response.status_code == 403
    assert "This key lacks the admin scope" in _message(response)


def test_a_key_used_on_another_org_names_the_org_it_is_bound_to(sqlite_server):
    """The answer is 404 whether or not the other org exists, and says nothing about it: only which
    org the caller's own key belongs to."""
    tenant = new_tenant(sqlite_server)
    with sqlite_server.client(tenant.key) as client:
        real = client.get(f"/api/v1/orgs/{sqlite_server.org}/models")
        absent = client.get("/api/v1/orgs/no-such-org-at-all/models")
    for response, name in ((real, sqlite_server.org), (absent, "no-such-org-at-all")):
        assert response.status_code == 404 and error_code(response) == "not_found"
        assert _message(response) == (f"Organization {name!r} not found for this key: it is bound to org "
                                      f"{tenant.org!r}. Each key belongs to one org; use a key created in {name!r}.")


def test_a_wrong_model_name_says_where_to_list_models(sqlite_server):
    tenant = new_tenant(sqlite_server)
    with sqlite_server.client(tenant.key) as client:
        served = client.post(f"/v1/models/{tenant.org}/misspelt:predict", json={"inputs": [[1]]})
        managed = client.get(f"/api/v1/orgs/{tenant.org}/models/misspelt")
    for response in (served, managed):
        assert response.status_code == 404 and error_code(response) == "not_found"
        assert f"Model {tenant.org}/misspelt not found." in _message(response)
        assert f"limelight models list --org {tenant.org}" in _message(response)


def test_a_v2_path_with_a_slash_is_told_the_org_dot_name_rule(sqlite_server):
    """No route matches it (so OPTIONS and Allow stay those of the real v2 routes); the 404 says
    the path it should have been, and nothing about any model."""
    tenant = new_tenant(sqlite_server)
    with sqlite_server.client(tenant.key) as client:
        metadata = client.get(f"/v2/models/{tenant.org}/movies")
        infer = client.post(f"/v2/models/{tenant.org}/movies/infer", json={"inputs": []})
        proper = client.get(f"/v2/models/{tenant.org}.movies/versions/1")
    for response, path in ((metadata, f"/v2/models/{tenant.org}.movies."), (infer, f"/v2/models/{tenant.org}.movies/infer.")):
        assert response.status_code == 404 and error_code(response) == "not_found"
        assert path in _message(response)
    assert proper.status_code == 404 and "KServe v2 names" not in proper.text
