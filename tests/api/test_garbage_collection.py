"""The garbage collector against a real server: aborted uploads and killed workers leave disk use
where it was once collected, and nothing live is touched."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq

from limelight.artifacts.registry import open_store
from tests.support.factories import interactions_csv, lightgbm_model_bytes, ok
from tests.support.live_server import LiveServer, run_cli, start_live_server

ROW = [1.0, 0.0, 0.0]
BOUNDARY = "gc-test-boundary"
NOT_GARBAGE = {"server.log"}  # the server's own log is not something a collector should take


def _disk_use(home: Path) -> dict[str, int]:
    """Every file and link under the home and their bytes; the database lives outside it."""
    sizes = {str(p.relative_to(home)): p.lstat().st_size for p in home.rglob("*")
             if (p.is_symlink() or not p.is_dir()) and p.name not in NOT_GARBAGE}
    return sizes


def _totals(sizes: dict[str, int]) -> tuple[int, int]:
    return len(sizes), sum(sizes.values())


def _multipart_head(fields: dict[str, str], filename: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
    return "".join(parts).encode()


def _open_upload(live: LiveServer, path: str, fields: dict[str, str], sent: bytes,
                 declared: int) -> socket.socket:
    """A multipart upload whose body says ``declared`` file bytes follow, of which ``sent`` went out."""
    url = urlparse(live.url)
    head = _multipart_head(fields, "upload.bin")
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {live.admin_key}\r\n"
               f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
               f"Content-Length: {len(head) + declared + len(tail)}\r\n\r\n").encode()
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    sock.sendall(request + head + sent)
    return sock


def _drop_mid_body(live: LiveServer, path: str, fields: dict[str, str]) -> None:
    sock = _open_upload(live, path, fields, b"\x00" * (256 << 10), declared=4 << 20)
    time.sleep(0.02)  # the server has begun staging the file part
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    sock.close()


def _aborted_uploads(live: LiveServer) -> list[int]:
    """100 uploads that never became anything: dropped mid-body, or refused by validation."""
    org, statuses = live.org, []
    model_path, dataset_path = f"/api/v1/orgs/{org}/models/churn/versions", f"/api/v1/orgs/{org}/datasets"
    for _ in range(60):
        _drop_mid_body(live, model_path, {"meta": '{"runtime": "lightgbm"}'})
    for i in range(20):
        _drop_mid_body(live, dataset_path, {"name": f"dropped{i}", "kind": "interactions"})
    with live.client() as client:
        for _ in range(10):  # an invalid meta: refused before the sandbox
            statuses.append(client.post(model_path, files={"file": ("m.txt", lightgbm_model_bytes())},
                                        data={"meta": '{"runtime": "no-such-runtime"}'}).status_code)
        for i in range(10):  # distinct garbage each time, so the sandbox really runs and refuses it
            statuses.append(client.post(model_path, files={"file": ("m.txt", f"tree {i}\n".encode() * 50)},
                                        data={"meta": '{"runtime": "lightgbm"}'}).status_code)
    return statuses


def _stages(home: Path) -> set[str]:
    return {p.name for p in (home / "artifacts" / "staging").glob("stage-*")}


def _kill_workers_mid_job(live: LiveServer, count: int) -> list[int]:
    """One training job per worker; each worker is SIGKILLed once the job's output is staged."""
    pids: list[int] = []
    for i in range(count):
        with live.client() as client:
            job = ok(client.post(f"/api/v1/orgs/{live.org}/jobs", json={
                "recipe": "recommend/als", "dataset": "views", "model": f"killed{i}"}))
        before = _stages(live.home)
        process = subprocess.Popen([sys.executable, "-m", "limelight.cli.main", "worker"], env=live.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _stages(live.home) <= before and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert _stages(live.home) - before, "the worker never staged its job's output"
        with live.client() as client:
            state = ok(client.get(f"/api/v1/orgs/{live.org}/jobs/{job['id']}"))["state"]
        assert state in ("running", "failed"), f"the job ended ({state}) before its worker was killed"
        pids.append(process.pid)
    return pids


def _kill_server_mid_uploads(live: LiveServer, count: int) -> int:
    """A second API process on the same home and database, SIGKILLed with ``count`` uploads half in."""
    other = start_live_server(live.home, live.env["LIMELIGHT_DATABASE_URL"], init=False,
                              LIMELIGHT_WORKER__PROCESSES="0")
    other.admin_key = live.admin_key
    before = _stages(live.home)
    sent = 256 << 10
    sockets = [_open_upload(other, f"/api/v1/orgs/{live.org}/models/churn/versions", {"meta": '{"runtime": "lightgbm"}'},
                            b"\x00" * sent, declared=4 << 20) for _ in range(count)]
    staging = live.home / "artifacts" / "staging"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(
            1 for name in _stages(live.home) - before if (staging / name / "blob").stat().st_size >= sent // 2) < count:
        time.sleep(0.02)
    os.killpg(other.process.pid, signal.SIGKILL)
    other.process.wait(10)
    for sock in sockets:
        sock.close()
    left = len(_stages(live.home) - before)
    assert left == count, f"{left} of {count} uploads were staged when their server died"
    return left


def _kill_workers(live: LiveServer, count: int) -> list[int]:
    """Start ``limelight worker`` processes, wait for each one's first beat, then SIGKILL them."""
    pids: list[int] = []
    for start in range(0, count, 5):
        batch = [subprocess.Popen([sys.executable, "-m", "limelight.cli.main", "worker"], env=live.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(min(5, count - start))]
        deadline = time.monotonic() + 120
        for process in batch:
            beat = live.home / "run" / f"worker-{process.pid}.beat"
            while not beat.exists() and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)
            assert beat.exists(), "a worker never beat"
        for process in batch:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            pids.append(process.pid)
    return pids


def _gc(live: LiveServer, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run_cli(live.env, "gc", "--json", *args).stdout)


def _live_objects_work(live: LiveServer, model_sha: str, dataset_sha: str) -> None:
    store = open_store(live.env["LIMELIGHT_ARTIFACTS_URL"])
    assert store.verify(model_sha) and store.verify(dataset_sha)
    with live.client() as client:
        prediction = client.post(f"/v1/models/{live.org}/churn:predict", json={"inputs": [ROW]})
        assert prediction.status_code == 200, prediction.text
        version = ok(client.get(f"/api/v1/orgs/{live.org}/datasets/views/versions/1"))
    assert version["sha256"] == dataset_sha
    with store.open(dataset_sha) as handle:
        assert pq.read_table(io.BytesIO(handle.read())).num_rows == version["rows"]


def test_collection_returns_disk_use_to_the_baseline_and_spares_live_objects(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # Jobs go only to the workers this test starts and kills.
    live = start_live_server(home, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0")
    try:
        with live.client() as client:
            ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "churn", "task": "classify"}))
            model_bytes = lightgbm_model_bytes()
            model = ok(client.post(f"/api/v1/orgs/{live.org}/models/churn/versions",
                                   files={"file": ("m.txt", model_bytes)}, data={"meta": '{"runtime": "lightgbm"}'}))
            dataset = ok(client.post(f"/api/v1/orgs/{live.org}/datasets", files={"file": ("d.csv", interactions_csv())},
                                     data={"name": "views", "kind": "interactions"}))
        assert model["sha256"] == hashlib.sha256(model_bytes).hexdigest()
        _live_objects_work(live, model["sha256"], dataset["sha256"])
        baseline = _disk_use(home)

        with live.client() as client:  # a model deleted: its blob is referenced by nothing any more
            ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "gone", "task": "other"}))
            ok(client.post(f"/api/v1/orgs/{live.org}/models/gone/versions",
                           files={"file": ("m.txt", lightgbm_model_bytes(seed=7))}, data={"meta": '{"runtime": "lightgbm"}'}))
            assert client.delete(f"/api/v1/orgs/{live.org}/models/gone").status_code == 204
        statuses = _aborted_uploads(live)
        assert all(400 <= status < 500 for status in statuses), statuses
        killed = _kill_workers_mid_job(live, 5) + _kill_workers(live, 15)
        orphaned_uploads = _kill_server_mid_uploads(live, 5)
        littered = _disk_use(home)
        assert {f"run/worker-{pid}.beat" for pid in killed} <= set(littered)

        dry = _gc(live, "--dry-run", "--grace-s", "0")
        assert dry["dry_run"] and dry["categories"]["heartbeats"]["removed"] >= 20
        assert dry["categories"]["blobs"]["removed"] >= 1 and dry["categories"]["staging"]["removed"] >= 10
        assert set(_disk_use(home)) == set(littered), "a dry run removed something"

        report = _gc(live, "--grace-s", "0")
        after = _disk_use(home)
        print("baseline", _totals(baseline), "littered", _totals(littered), "after", _totals(after),
              {k: (v["removed"], v["bytes"]) for k, v in report["categories"].items()})
        assert report["categories"]["heartbeats"]["removed"] >= 20
        assert report["categories"]["staging"]["removed"] == 5 + orphaned_uploads  # killed jobs', dead server's
        assert report["categories"]["staging"]["bytes"] >= orphaned_uploads * (128 << 10)
        assert report["categories"]["blobs"]["items"] == dry["categories"]["blobs"]["items"]
        assert model["sha256"] not in report["categories"]["blobs"]["items"]
        assert after == baseline, "disk use did not return to the baseline"
        _live_objects_work(live, model["sha256"], dataset["sha256"])
    finally:
        live.stop()


def test_an_upload_in_progress_survives_a_collection(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    live = start_live_server(home, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0")
    try:
        with live.client() as client:
            ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "churn", "task": "classify"}))
        payload = lightgbm_model_bytes()
        half = len(payload) // 2
        staging = home / "artifacts" / "staging"
        sock = _open_upload(live, f"/api/v1/orgs/{live.org}/models/churn/versions",
                            {"meta": '{"runtime": "lightgbm"}'}, payload[:half], declared=len(payload))
        try:
            deadline = time.monotonic() + 30
            while not list(staging.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.05)
            in_flight = sorted(p.name for p in staging.iterdir())
            assert in_flight, "the upload never reached staging"
            report = _gc(live, "--grace-s", "0")  # however old: its writer holds the entry's lock
            assert report["categories"]["staging"]["removed"] == 0
            assert sorted(p.name for p in staging.iterdir()) == in_flight
            sock.sendall(payload[half:] + f"\r\n--{BOUNDARY}--\r\n".encode())
            response = b""
            while b"\r\n\r\n" not in response:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                response += chunk
        finally:
            sock.close()
        assert response.startswith(b"HTTP/1.1 201"), response[:300]
        with live.client() as client:
            assert client.post(f"/v1/models/{live.org}/churn:predict", json={"inputs": [ROW]}).status_code == 200
    finally:
        live.stop()


def test_a_deduplicated_write_refreshes_the_blob_age(tmp_path: Path) -> None:
    from limelight.artifacts import LocalArtifactStore

    store = LocalArtifactStore(tmp_path / "store")
    ref = store.write_stream([b"the same bytes"], max_bytes=100)
    old = time.time() - 7200
    os.utime(store.local_path(ref.sha256), (old, old))
    store.write_stream([b"the same bytes"], max_bytes=100)  # an upload about to reference it again
    assert store.gc(set(), older_than_s=3600).blobs_removed == 0 and store.exists(ref.sha256)


def test_the_server_collects_periodically(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    beat = home / "run" / f"worker-{dead.pid}.beat"
    beat.touch()
    live = start_live_server(home, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_GC__INTERVAL_S="0.2", LIMELIGHT_GC__GRACE_S="0")
    try:
        deadline = time.monotonic() + 30
        while beat.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not beat.exists(), "no periodic pass took a dead worker's beat file"
    finally:
        live.stop()
