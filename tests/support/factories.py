"""Small real inputs for tests: tables, models in safe formats, and tenants with keys."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from tests.support.job_events import follow_job
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


def lightgbm_model_bytes(seed: int = 0) -> bytes:
    """A small LightGBM text model on 3 features (servable with runtime ``lightgbm``)."""
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    x = rng.random((60, 3))
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 2, "verbose": -1,
                         "num_threads": 1}, lgb.Dataset(x, (x[:, 0] > 0.5).astype(int)), num_boost_round=3)
    return str(booster.model_to_string()).encode()


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


def org_principal(session: Any, org: str) -> Any:
    """The server's admin acting as an owner of ``org``, for services called straight on the database."""
    from limelight.auth import repository as auth_repo
    from limelight.auth.principal import Principal, Role, Scope
    from limelight.orgs import repository as orgs_repo
    user, owner = auth_repo.user_by_name(session, LiveServer.admin_user), orgs_repo.org_by_name(session, org)
    assert user is not None and owner is not None
    return Principal(user_id=user.id, username=user.username, org_id=owner.id, org_name=owner.name,
                     role=Role.owner, scopes=frozenset(Scope), is_admin=True)


def register_unvalidated_version(server: LiveServer, org: str, model: str, payload: bytes,
                                 runtime: str = "lightgbm", fmt: str = "lightgbm") -> int:
    """A version written straight into the registry, as a training job registers its output: no
    upload, so no validation yet (the first load validates it). Creates ``model`` if missing."""
    from limelight.artifacts.registry import open_store
    from limelight.auth import repository as auth_repo
    from limelight.auth.principal import Principal, Role, Scope
    from limelight.db.session import open_database
    from limelight.orgs import repository as orgs_repo
    from limelight.registry import service
    from limelight.schemas.registry import Task, VersionMeta

    ref = open_store(server.env["LIMELIGHT_ARTIFACTS_URL"]).write_stream([payload], max_bytes=1 << 30)
    db = open_database(server.env["LIMELIGHT_DATABASE_URL"])
    try:
        with db.transaction() as session:
            user, owner = auth_repo.user_by_name(session, server.admin_user), orgs_repo.org_by_name(session, org)
            assert user is not None and owner is not None
            principal = Principal(user_id=user.id, username=user.username, org_id=owner.id, org_name=owner.name,
                                  role=Role.owner, scopes=frozenset(Scope), is_admin=True)
            service.ensure_model(session, principal, org, model, Task.other)
            read = service.register_version(session, principal, org, model, sha256=ref.sha256,
                                            size_bytes=ref.size_bytes, fmt=fmt, meta=VersionMeta(runtime=runtime))
        return read.version
    finally:
        db.dispose()


MINILM_META = {"runtime": "sentence-embedding", "params": {"engine": "torch", "base": "all-minilm-l6-v2"}}


def minilm_weights() -> bytes:
    """The bundled all-MiniLM-L6-v2 weights: a weights-only sentence-embedding version (``MINILM_META``)."""
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    return (bundled_minilm_dir() / "model.safetensors").read_bytes()


def wait_for_job(client: httpx.Client, org: str, job_id: str, timeout_s: float = 180) -> dict:  # type: ignore[type-arg]
    """The job once it reached a final state (succeeded, failed or cancelled), from its event stream."""
    return follow_job(client, org, job_id, timeout_s=timeout_s)
