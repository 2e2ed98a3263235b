"""SIGKILL of the server during a stream of writes loses no acknowledged write and leaves no
version pointing at a missing or corrupt artifact."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import httpx

from tests.support.factories import lightgbm_model_bytes, ok
from tests.support.live_server import start_live_server


def test_sigkill_during_uploads_keeps_every_acknowledged_version(tmp_path, database_rows):
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    live = start_live_server(tmp_path, url, LIMELIGHT_WORKER__PROCESSES="0")
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "crash", "task": "other"}))
    acknowledged: list[tuple[int, str]] = []
    # A few distinct models: each is validated in the sandbox once, then its verdict is reused, so
    # the stream is mostly version commits (blob writes and registry rows) as the test intends.
    models = [lightgbm_model_bytes(seed) for seed in range(4)]
    stop = threading.Event()

    def upload(client: httpx.Client, payload: bytes) -> None:
        response = client.post(f"/api/v1/orgs/{live.org}/models/crash/versions",
                               files={"file": ("m.txt", payload)}, data={"meta": '{"runtime": "lightgbm"}'})
        if response.status_code == 201:
            acknowledged.append((response.json()["version"], response.json()["sha256"]))

    def upload_forever() -> None:
        with live.client() as client:
            i = 0
            while not stop.is_set():
                try:
                    upload(client, models[i % len(models)])
                except httpx.HTTPError:
                    return
                i += 1

    with live.client() as client:
        for payload in models:
            upload(client, payload)

    workers = [threading.Thread(target=upload_forever) for _ in range(3)]
    for w in workers:
        w.start()
    time.sleep(2.5)
    os.killpg(live.process.pid, signal.SIGKILL)
    live.process.wait(10)
    stop.set()
    for w in workers:
        w.join(10)
    assert len(acknowledged) > 5
    restarted = start_live_server(tmp_path, url, init=False, LIMELIGHT_WORKER__PROCESSES="0")
    try:
        restarted.admin_key = live.admin_key
        with restarted.client() as client:
            versions = {v["version"]: v for v in _all_versions(client, live.org)}
        from limelight.artifacts.registry import open_store

        store = open_store(restarted.env["LIMELIGHT_ARTIFACTS_URL"])
        for number, sha in acknowledged:
            assert number in versions and versions[number]["sha256"] == sha
        for version in versions.values():
            data = store.local_path(version["sha256"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == version["sha256"]
        assert sorted(versions) == list(range(1, len(versions) + 1))
        integrity = database_rows(restarted, "PRAGMA integrity_check")
        assert integrity == [("ok",)]
    finally:
        restarted.stop()


def _all_versions(client: httpx.Client, org: str) -> list[dict]:  # type: ignore[type-arg]
    items, cursor = [], None
    while True:
        page = ok(client.get(f"/api/v1/orgs/{org}/models/crash/versions", params={"limit": 100, "cursor": cursor}))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
