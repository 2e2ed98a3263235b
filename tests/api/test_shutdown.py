"""Stopping `limelight serve` (SIGTERM) or killing it (SIGKILL) leaves no job worker behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.api.test_jobs import _worker_pids
from tests.support.live_server import start_live_server


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_job_workers_end_with_the_server(tmp_path, sig):
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        workers = _worker_pids(live.process.pid)
        assert workers, "serve started no job worker"
        os.kill(live.process.pid, sig)  # the server process only, not its process group
        live.process.wait(30)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "job workers outlived the server"
    finally:
        live.stop()
