"""The job worker loop: reap dead leases, claim, run, repeat.

Liveness (what ``/readyz`` and operators look at) is beaten by its own thread, so a worker busy
supervising a long job still counts as alive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from typing import Any

from limelight.artifacts.registry import open_store
from limelight.config import Settings
from limelight.db.session import Database, open_database
from limelight.experiments.service import decide_due
from limelight.jobs import liveness
from limelight.jobs.lifecycle import claim, reap_expired
from limelight.jobs.retrain import submit_due
from limelight.workers import lifeline
from limelight.workers.runner import execute

log = logging.getLogger("limelight.worker")

SCHEDULE_CHECK_S = 1.0
ORPHAN_GRACE_S = 5.0


def submit_due_retraining(db: Database) -> list[str]:
    with db.transaction() as session:
        return submit_due(session)


def decide_due_experiments(db: Database) -> list[str]:
    with db.transaction() as session:
        done = decide_due(session)
    for line in done:
        log.info("experiment decided: %s", line)
    return done


def run_worker(settings: Settings, *, stop: threading.Event | None = None, max_jobs: int | None = None,
               install_signals: bool = True) -> int:
    stop = stop or threading.Event()
    if install_signals:
        _stop_on_signals(stop)
    lifeline.watch(stop, grace_s=ORPHAN_GRACE_S)
    db = open_database(settings.database_url, pool_size=2)
    store = open_store(settings.artifacts_url)
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    log.info("worker %s started", worker_id)
    beating = threading.Event()
    beats = threading.Thread(target=_beat_until, args=(settings, beating), name="worker-liveness", daemon=True)
    beats.start()
    done = 0
    next_schedule_check = next_experiment_check = 0.0
    try:
        while not stop.is_set() and (max_jobs is None or done < max_jobs):
            _safely(reap_expired, db)
            if time.monotonic() >= next_schedule_check:
                _safely(submit_due_retraining, db)
                next_schedule_check = time.monotonic() + SCHEDULE_CHECK_S
            if time.monotonic() >= next_experiment_check:
                _safely(decide_due_experiments, db)
                next_experiment_check = time.monotonic() + settings.worker.experiment_check_s
            job_id = _safely(claim, db, worker_id, settings.worker.lease_s)
            if job_id is None:
                stop.wait(settings.worker.poll_s)
                continue
            state = execute(db, store, settings, job_id, worker_id)
            log.info("job %s ended %s", job_id, state)
            done += 1
    finally:
        beating.set()
        beats.join(2)
        liveness.forget(settings.home)
        db.dispose()
    return done


def _beat_until(settings: Settings, stop: threading.Event) -> None:
    while True:
        _safely(liveness.beat, settings.home)
        if stop.wait(settings.worker.heartbeat_s):
            return


def _safely(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - keep polling through a busy or restarting database
        log.warning("%s failed: %s", fn.__name__, exc)
        return None


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT stop the loop. The handler only writes a byte to a pipe and a thread sets
    ``stop``: a handler that set the Event itself could deadlock, since it runs in the main thread,
    which may already hold that Event's lock (inside ``stop.wait`` or an earlier handler's ``set``)
    when a second signal lands, and the lock is not reentrant. A dying server can deliver two."""
    if threading.current_thread() is not threading.main_thread():
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def relay() -> None:
        os.read(read_end, 1)
        stop.set()

    def on_signal(_signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):  # a full pipe already holds the news
            os.write(write_end, b"\0")

    threading.Thread(target=relay, name="worker-signals", daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
