"""Models for marketplace tests, made through the API of a real server."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import Any

import httpx

from tests.support.factories import lightgbm_model_bytes, ok, skops_model_bytes


def word() -> str:
    """A token no other test's model holds, so a search can be scoped to one test's models."""
    return "zq" + uuid.uuid4().hex[:10]


def create(client: httpx.Client, org: str, name: str, **fields: Any) -> dict[str, Any]:
    return ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": name, "task": "classify", **fields}))


@cache
def _artifact(runtime: str) -> bytes:
    return skops_model_bytes() if runtime == "sklearn" else lightgbm_model_bytes()


def upload(client: httpx.Client, org: str, name: str, *, runtime: str = "lightgbm",
           metrics: dict[str, float] | None = None) -> int:
    """A small servable version (lightgbm on 3 features, or a sklearn one) with ``metrics``."""
    meta = {"runtime": runtime, "metrics": metrics or {}}
    response = client.post(f"/api/v1/orgs/{org}/models/{name}/versions", data={"meta": json.dumps(meta)},
                           files={"file": ("model.bin", _artifact(runtime))})
    return int(ok(response)["version"])


def search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    return ok(client.get("/api/v1/models", params={"limit": 50, **params}))


def names(page: dict[str, Any]) -> list[str]:
    return [m["name"] for m in page["items"]]


def every_page(client: httpx.Client, **params: Any) -> list[str]:
    """Names of every result, following next_cursor; fails on a repeat (a cursor that skips back)."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = ok(client.get("/api/v1/models", params={**params, **({"cursor": cursor} if cursor else {})}))
        seen += names(page)
        counted = page["total"] is not None and page["facets"] is not None
        assert counted == (cursor is None)  # counted once, on the first page
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), seen
    return seen
