"""A job computes in a child process its worker supervises: readiness and the worker's heartbeat stay
fresh during a long fit, a saturated CPU does not cost the job its lease, a lost lease kills the
computation, and cancel stops a fit that never checks for it."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.factories import interactions_csv, new_tenant, ok
from tests.support.live_server import LiveServer, start_live_server

HEARTBEAT_S = 0.6  # tests/support/live_server.py
LEASE_S = 1.8
CANCEL_LIMIT_S = 5.0
# ~0.5 s per iteration on one core: minutes of fitting, and ALS never calls check_cancelled mid-fit
LONG_ALS = {"factors": 512, "iterations": 200, "num_threads": 1, "include_live_events": False}


def _dataset(client, org: str, name: str) -> None:  # type: ignore[no-untyped-def]
    ok(client.post(f"/api/v1/orgs/{org}/datasets",
                   files={"file": (f"{name}.csv", interactions_csv(users=2000, items=1000, per_user=30, seed=3))},
                   data={"name": name, "kind": "interactions"}))


def _submit(client, org: str, dataset: str, model: str, params: dict) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
        "recipe": "recommend/als", "dataset": dataset, "model": model, "max_attempts": 1, "params": params}))


def _job(client, org: str, job_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return ok(client.get(f"/api/v1/orgs/{org}/jobs/{job_id}"))


def _computing_pid(live: LiveServer, database_rows, job_id: str, timeout_s: float = 90) -> int:  # type: ignore[no-untyped-def]
    """The child process computing the job, once its fit has started (it logs its pid first)."""
    deadline = time.monotonic() + timeout_s
    pid = None
    while time.monotonic() < deadline:
        rows = database_rows(live, "SELECT message FROM job_logs WHERE job_id = :id", id=job_id)
        found = [m for (m,) in rows if re.search(r"\(process (\d+)\)", str(m))]
        if found:
            pid = int(re.search(r"\(process (\d+)\)", str(found[0])).group(1))  # type: ignore[union-attr]
            progress = database_rows(live, "SELECT progress FROM jobs WHERE id = :id", id=job_id)[0][0]
            if float(progress) >= 10:  # data loaded; the ALS fit follows at once
                return pid
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never started computing (child pid {pid})")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout_s: float) -> float:
    started = time.monotonic()
    while _alive(pid):
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"process {pid} still alive {timeout_s}s later")
        time.sleep(0.02)
    return time.monotonic() - started


def _age_s(stamp: object) -> float:
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds()


def _cancel_and_wait(client, org: str, job_id: str) -> tuple[dict, float]:  # type: ignore[no-untyped-def, type-arg]
    ok(client.post(f"/api/v1/orgs/{org}/jobs/{job_id}/cancel"))
    asked = time.monotonic()
    while time.monotonic() - asked < 30:
        job = _job(client, org, job_id)
        if job["state"] != "running":
            return job, time.monotonic() - asked
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running 30s after cancel")


def test_readiness_and_worker_heartbeat_stay_fresh_during_a_long_job(sqlite_server, database_rows):
    live = sqlite_server
    tenant = new_tenant(live)
    with tenant.client() as client:
        _dataset(client, tenant.org, "long")
        job = _submit(client, tenant.org, "long", "long-fit", LONG_ALS)
        _computing_pid(live, database_rows, job["id"])
        try:
            deadline = time.monotonic() + 9  # past the 3 heartbeats + 5 s a silent worker was allowed
            while time.monotonic() < deadline:
                ready = live.anonymous().get("/readyz")
                assert ready.status_code == 200, ready.text
                beats = list((live.home / "run").glob("worker-*.beat"))
                assert beats, "no worker liveness file"
                freshest = min(time.time() - b.stat().st_mtime for b in beats)
                assert freshest <= 3 * HEARTBEAT_S, f"worker liveness {freshest:.1f}s old mid-job"
                state, beat = database_rows(live, "SELECT state, heartbeat_at FROM jobs WHERE id = :id",
                                            id=job["id"])[0]
                assert state == "running"
                assert _age_s(beat) <= LEASE_S, f"job heartbeat {_age_s(beat):.1f}s old: its lease would lapse"
                time.sleep(0.5)
            assert ready.json()["workers"]["alive"] is True
        finally:
            _cancel_and_wait(client, tenant.org, job["id"])


@pytest.fixture
def busy_cpus() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two processes spinning on the CPU (the machine has two cores), ended whatever happens."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait(10)


def test_a_job_keeps_its_lease_on_a_saturated_cpu(tmp_path, database_rows, busy_cpus):
    heartbeat_s, lease_s = 1.0, 3.0
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__HEARTBEAT_S=str(heartbeat_s),
                             LIMELIGHT_WORKER__LEASE_S=str(lease_s))
    try:
        tenant = new_tenant(live)
        with tenant.client() as client:
            _dataset(client, tenant.org, "busy")
            job = _submit(client, tenant.org, "busy", "busy-fit",
                          {"factors": 256, "iterations": 12, "num_threads": 1, "include_live_events": False})
            oldest_beat = 0.0
            deadline = time.monotonic() + 240
            while (current := _job(client, tenant.org, job["id"]))["state"] in ("queued", "running"):
                assert time.monotonic() < deadline, "the job did not finish in 240 s"
                if current["state"] == "running":
                    beat = database_rows(live, "SELECT heartbeat_at FROM jobs WHERE id = :id AND state = 'running'",
                                         id=job["id"])
                    if beat:
                        oldest_beat = max(oldest_beat, _age_s(beat[0][0]))
                time.sleep(0.2)
            logs = [m for (m,) in database_rows(live, "SELECT message FROM job_logs WHERE job_id = :id", id=job["id"])]
        assert all(s.poll() is None for s in busy_cpus), "the CPU was not saturated throughout"
        print(f"oldest job heartbeat seen while running: {oldest_beat:.2f}s (lease {lease_s}s)")
        assert current["state"] == "succeeded", (current, logs)
        assert current["attempts"] == 1 and not any("lost" in str(m) for m in logs), logs
    finally:
        live.stop()


def test_a_lost_lease_kills_the_computation_at_once(server, database_rows):
    tenant = new_tenant(server)
    with tenant.client() as client:
        _dataset(client, tenant.org, "stolen")
        job = _submit(client, tenant.org, "stolen", "stolen-fit", LONG_ALS)
        pid = _computing_pid(server, database_rows, job["id"])
        database_rows(server, "UPDATE jobs SET lease_owner = 'another-worker' WHERE id = :id", id=job["id"])
        took = _wait_gone(pid, timeout_s=5)
        print(f"computation of a job whose lease was taken ended {took:.2f}s later")
        deadline = time.monotonic() + 30
        while (ended := _job(client, tenant.org, job["id"]))["state"] == "running":
            assert time.monotonic() < deadline, "the reaper never ended the job whose lease lapsed"
            time.sleep(0.1)
        model = client.get(f"/api/v1/orgs/{tenant.org}/models/stolen-fit")
    assert ended["state"] == "failed" and "lease expired" in (ended["error"] or ""), ended
    assert model.status_code == 404


def test_cancel_stops_a_running_fit_and_leaves_no_version(server, database_rows):
    tenant = new_tenant(server)
    latencies = []
    with tenant.client() as client:
        _dataset(client, tenant.org, "cancelled")
        for run in range(3):
            job = _submit(client, tenant.org, "cancelled", f"cancelled-{run}", LONG_ALS)
            pid = _computing_pid(server, database_rows, job["id"])
            time.sleep(1.0)  # well inside the fit
            ended, latency = _cancel_and_wait(client, tenant.org, job["id"])
            latencies.append(latency)
            assert ended["state"] == "cancelled", ended
            assert latency <= CANCEL_LIMIT_S, f"cancel took {latency:.2f}s"
            _wait_gone(pid, timeout_s=5)
            assert client.get(f"/api/v1/orgs/{tenant.org}/models/cancelled-{run}").status_code == 404
    print(f"cancel latencies {[round(x, 2) for x in latencies]}; median {statistics.median(latencies):.2f}s")
