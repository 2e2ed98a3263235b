"""Small real inputs for tests: tables, models in safe formats, and tenants with keys."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import httpx
import numpy as np

from tests.support.live_server import LiveServer

ADMIN_SCOPES = ["read", "predict", "write", "admin"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tabular_csv(rows: int = 400, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=rows) > 0).astype(int)
    lines = ["tenure,spend,visits,age,target"]
    lines += [f"{a:.4f},{b:.4f},{c:.4f},{d:.4f},{t}" for (a, b, c, d), t in zip(x, y, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def interactions_csv(users: int = 30, items: int = 40, per_user: int = 8, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["user_id,item_id,rating,timestamp"]
    for u in range(users):
        for i in rng.choice(items, size=per_user, replace=False):
            lines.append(f"u{u},i{i},{rng.integers(1, 6)},{1_600_000_000 + int(rng.integers(0, 10_000_000))}")
    return ("\n".join(lines) + "\n").encode()


def skops_model_bytes() -> bytes:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    return sio.dumps(LogisticRegression().fit(x, y))


def npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.arange(6, dtype=np.float32).reshape(2, 3))
    return buffer.getvalue()


@dataclass
class Tenant:
    org: str
    username: str
    key: str
    server: LiveServer

    def client(self) -> httpx.Client:
        return self.server.client(self.key)


def new_tenant(server: LiveServer, role: str = "owner", scopes: list[str] | None = None) -> Tenant:
    """A fresh org with one user of ``role`` holding a key with ``scopes``."""
    org = unique("org")
    username = unique("user")
    with server.client() as admin:  # the system admin creates the org and becomes its first owner
        _ok(admin.post("/api/v1/orgs", json={"name": org}))
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        login = _ok(anon.post("/api/v1/auth/login", json={"username": server.admin_user,
                                                           "password": _admin_password(), "org": org}))
        csrf = {"X-CSRF-Token": login["csrf_token"]}
        _ok(anon.post("/api/v1/users", json={"username": username, "password": "pw-" + "y" * 12}, headers=csrf))
        _ok(anon.post(f"/api/v1/orgs/{org}/members", json={"username": username, "role": role}, headers=csrf))
    key = _user_key(server, username, org, scopes or (ADMIN_SCOPES if role == "owner" else ["read", "predict", "write"]))
    return Tenant(org=org, username=username, key=key, server=server)


def _user_key(server: LiveServer, username: str, org: str, scopes: list[str]) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        login = _ok(anon.post("/api/v1/auth/login", json={"username": username, "password": "pw-" + "y" * 12,
                                                           "org": org}))
        created = _ok(anon.post("/api/v1/keys", json={"name": "test", "org": org, "scopes": scopes},
                                headers={"X-CSRF-Token": login["csrf_token"]}))
    return str(created["key"])


def _admin_password() -> str:
    from tests.support.live_server import ADMIN_PASSWORD

    return ADMIN_PASSWORD


def _ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else {}


def ok(response: httpx.Response) -> dict:  # type: ignore[type-arg]
    return _ok(response)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details", "request_id"} <= set(body["error"]), body
    return str(body["error"]["code"])
