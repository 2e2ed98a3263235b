"""Monitoring numbers come from the store: two API processes agree, and a restart keeps them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.factories import ok, skops_model_bytes
from tests.support.live_server import LiveServer, start_live_server
from tests.support.postgres import drop_schema, postgres_url_for_schema

ROW = [0.1, 0.2, 0.3]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"m_{uuid.uuid4().hex[:12]}"
    try:
        yield postgres_url_for_schema(schema)
    finally:
        drop_schema(schema)


def _serve_model(live: LiveServer, name: str) -> None:
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": name, "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{live.org}/models/{name}/versions", files={"file": ("m.skops", skops_model_bytes())},
                       data={"meta": '{"runtime": "sklearn"}'}))


def _call(live: LiveServer, key: str, name: str, good: int, bad: int) -> None:
    with live.client(key) as client:
        for _ in range(good):
            ok(client.post(f"/v1/models/{live.org}/{name}:predict", json={"inputs": [ROW]}))
        for _ in range(bad):  # the wrong width: a 4xx answered by the model
            assert client.post(f"/v1/models/{live.org}/{name}:predict", json={"inputs": [[1.0]]}).status_code == 422


def _stats(live: LiveServer, key: str, name: str) -> dict:  # type: ignore[type-arg]
    with live.client(key) as client:
        return ok(client.get(f"/api/v1/orgs/{live.org}/monitoring/models/{name}"))["stats"]


def _wait_for(live: LiveServer, key: str, name: str, requests: int) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 20
    stats = _stats(live, key, name)
    while stats["requests"] < requests and time.monotonic() < deadline:
        time.sleep(0.1)
        stats = _stats(live, key, name)
    return stats


def test_two_api_processes_on_one_database_show_the_same_numbers(tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_live_server(tmp_path / "a", postgres_url, LIMELIGHT_WORKER__PROCESSES="0")
    second = None
    try:
        # the same metadata database and artifact store, another process with its own memory
        second = start_live_server(tmp_path / "b", postgres_url, init=False, LIMELIGHT_WORKER__PROCESSES="0",
                                   LIMELIGHT_ARTIFACTS_URL=first.env["LIMELIGHT_ARTIFACTS_URL"])
        key = first.admin_key
        _serve_model(first, "shared")
        _call(first, key, "shared", good=5, bad=1)
        _call(second, key, "shared", good=7, bad=2)
        seen_by_first = _wait_for(first, key, "shared", 15)
        seen_by_second = _stats(second, key, "shared")
        with httpx.Client(base_url=second.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            overview = ok(client.get(f"/api/v1/orgs/{first.org}/monitoring"))
    finally:
        if second is not None:
            second.stop()
        first.stop()
    assert seen_by_first == seen_by_second
    assert (seen_by_first["requests"], seen_by_first["client_errors"], seen_by_first["server_errors"]) == (15, 3, 0)
    assert seen_by_first["availability"] == 1.0
    assert overview["stats"]["requests"] == 15 and overview["models"][0]["name"] == "shared"


def test_counts_not_yet_flushed_are_stored_on_shutdown_and_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    slow_flush = {"LIMELIGHT_WORKER__PROCESSES": "0", "LIMELIGHT_MONITORING__FLUSH_INTERVAL_S": "300"}
    live = start_live_server(tmp_path, url, **slow_flush)
    try:
        _serve_model(live, "kept")
        _call(live, live.admin_key, "kept", good=4, bad=1)
        before = _stats(live, live.admin_key, "kept")["requests"]  # nothing flushed within 300 s yet
    finally:
        live.stop()
    again = start_live_server(tmp_path, url, init=False, **slow_flush)
    try:
        after = _stats(again, live.admin_key, "kept")
    finally:
        again.stop()
    assert before == 0
    assert (after["requests"], after["client_errors"]) == (5, 1)
