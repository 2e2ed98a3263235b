"""Arranging state through the API (fast), for tests whose subject is a later page."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.factories import wait_for_job

JOB_TIMEOUT_S = 90


def upload(api: httpx.Client, org: str, name: str, kind: str, content: bytes) -> dict[str, Any]:
    response = api.post(f"/api/v1/orgs/{org}/datasets", data={"name": name, "kind": kind},
                        files={"file": (f"{name}.csv", content, "text/csv")})
    assert response.status_code == 201, response.text
    return response.json()


def train(api: httpx.Client, org: str, recipe: str, dataset: str, model: str, **extra: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": recipe, "dataset": dataset, "model": model,
                                                          **extra})
    assert response.status_code == 201, response.text
    job = wait_for_job(api, org, response.json()["id"], JOB_TIMEOUT_S)
    assert job["state"] == "succeeded", job
    return job


def set_alias(api: httpx.Client, org: str, model: str, alias: str, version: int) -> None:
    response = api.put(f"/api/v1/orgs/{org}/models/{model}/aliases/{alias}", json={"version": version})
    assert response.status_code == 200, response.text


def register_small_version(api: httpx.Client, org: str, model: str, accuracy: float = 0.9,
                           **metrics: float) -> int:
    """A version from a small servable model (the registry's rules do not depend on what it holds)."""
    from tests.support.factories import lightgbm_model_bytes

    meta = {"runtime": "lightgbm", "metrics": {"accuracy": accuracy, **metrics}}
    response = api.post(f"/api/v1/orgs/{org}/models/{model}/versions", data={"meta": json.dumps(meta)},
                        files={"file": ("model.txt", lightgbm_model_bytes(), "text/plain")})
    assert response.status_code == 201, response.text
    return int(response.json()["version"])


def create_model(api: httpx.Client, org: str, name: str, task: str = "classify", card: str = "") -> None:
    response = api.post(f"/api/v1/orgs/{org}/models", json={"name": name, "task": task, "card": card})
    assert response.status_code == 201, response.text


def create_key(api: httpx.Client, org: str, scopes: list[str]) -> str:
    response = api.post("/api/v1/keys", json={"name": "tests", "org": org, "scopes": scopes})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def make_org(admin: httpx.Client) -> str:
    import uuid

    name = f"org-{uuid.uuid4().hex[:8]}"
    response = admin.post("/api/v1/orgs", json={"name": name})
    assert response.status_code == 201, response.text
    return name


def session_client(base_url: str, username: str, password: str, org: str) -> httpx.Client:
    """An API client signed in like the browser is: session cookie plus the CSRF header."""
    client = httpx.Client(base_url=base_url, timeout=60)
    login = client.post("/api/v1/auth/login", json={"username": username, "password": password, "org": org})
    assert login.status_code == 200, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client
