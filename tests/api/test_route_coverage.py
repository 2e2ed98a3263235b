"""Every route declares who may call it, and every non-public route refuses anonymous callers.

The static half walks the app's routes (no server); the dynamic half calls each one on a real
server without credentials and expects 401 (MLflow's fail-open dispatcher is the cautionary tale).
"""

from __future__ import annotations

import re

from limelight.auth.principal import Permission
from limelight.config import Settings
from limelight.server.app import create_app
from limelight.server.deps import Requires, _PublicMarker
from limelight.server.routes import RouteInfo, api_routes

# "/login" is the console's sign-in page (GET shows the form, POST signs in). Signing up by an
# invitation ("/api/v1/invitations/register", the console's "/join/new") has no account to present
# yet: the invitation's token is the credential.
PUBLIC_PATHS = {"/healthz", "/readyz", "/api/v1/auth/login", "/login", "/metrics", "/v2/health/live", "/v2/health/ready",
                "/api/v1/invitations/register", "/join/new"}
DOC_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _declared_permission(info: RouteInfo) -> Permission | None:
    found = []
    stack = [info.route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Requires | _PublicMarker):
            found.append(dependant.call.permission)
        stack.extend(dependant.dependencies)
    return found[0] if found else None


def _routes(tmp_path) -> list[RouteInfo]:  # type: ignore[no-untyped-def]
    return list(api_routes(create_app(Settings(home=tmp_path))))


def test_every_route_declares_a_permission(tmp_path):
    routes = _routes(tmp_path)
    assert len(routes) > 30
    missing = [f"{sorted(r.methods)} {r.path}" for r in routes if _declared_permission(r) is None]
    assert missing == []


def test_only_the_allowlist_is_public(tmp_path):
    public = {r.path for r in _routes(tmp_path) if _declared_permission(r) is Permission.public}
    assert public <= PUBLIC_PATHS, public - PUBLIC_PATHS


def _concrete(path: str) -> str:
    values = {"org": "studio", "name": "some-model", "version": "1", "alias": "production", "job_id": "0" * 32,
              "key_id": "0" * 32, "username": "someone", "user_id": "u1", "model_ref": "studio/x"}
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: values.get(m.group(1), "x"), path)


def test_every_non_public_route_answers_401_to_anonymous_callers(sqlite_server, tmp_path):
    checked = 0
    with sqlite_server.anonymous() as anon:
        for route in _routes(tmp_path):
            if _declared_permission(route) is Permission.public:
                continue
            for method in route.methods - {"HEAD", "OPTIONS"}:
                response = anon.request(method, _concrete(route.path), json={})
                assert response.status_code == 401, f"{method} {route.path}: {response.status_code} {response.text}"
                checked += 1
    assert checked > 30
