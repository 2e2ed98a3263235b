"""A worker whose server died stops: at once when idle, after the grace period when its main thread is busy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from limelight.workers import lifeline

_CHILD = textwrap.dedent("""
    import sys, threading, time
    from limelight.workers import lifeline
    stop = threading.Event()
    lifeline.watch(stop, grace_s=float(sys.argv[1]))
    print("ready", flush=True)
    if sys.argv[2] == "busy":
        time.sleep(60)  # a long job that never looks at `stop`
    else:
        stop.wait(60)
        print("stopped", flush=True)
""")


def _child(mode: str, grace_s: float) -> tuple[subprocess.Popen[str], int]:
    read_end, write_end = os.pipe()
    process = subprocess.Popen([sys.executable, "-c", _CHILD, str(grace_s), mode], pass_fds=(read_end,),
                               env=dict(os.environ, **{lifeline.ENV: str(read_end)}),
                               stdout=subprocess.PIPE, text=True)
    os.close(read_end)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, write_end


def test_an_idle_worker_stops_when_its_parent_end_closes():
    process, write_end = _child("idle", grace_s=30)
    time.sleep(0.3)
    assert process.poll() is None, "the worker stopped while its parent was alive"
    os.close(write_end)  # what the kernel does when the parent dies, SIGKILL included
    assert process.wait(10) == 0
    assert process.stdout is not None and process.stdout.read().strip() == "stopped"


def test_a_busy_worker_is_ended_after_the_grace_period():
    process, write_end = _child("busy", grace_s=0.5)
    os.close(write_end)
    assert process.wait(10) == 1, "a worker blocked in a job outlived its parent"


def test_a_worker_started_by_hand_has_no_lifeline(monkeypatch):
    monkeypatch.delenv(lifeline.ENV, raising=False)
    import threading

    assert lifeline.watch(threading.Event(), grace_s=1) is None
