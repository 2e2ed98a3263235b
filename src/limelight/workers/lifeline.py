"""A worker that `limelight serve` started ends when serve ends, however serve ends.

serve hands each worker the read end of a pipe whose write end only serve holds. The kernel closes
that end when serve dies, SIGKILL included, so the worker's blocking read returns EOF. Unlike
PR_SET_PDEATHSIG alone, this does not depend on which thread forked the worker, on a signal
arriving after the worker installed its handlers, or on the worker's main loop being free to look.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("limelight.worker")

ENV = "LIMELIGHT_WORKER_LIFELINE_FD"


def watch(stop: threading.Event, grace_s: float) -> threading.Thread | None:
    """When the parent is gone: ask the loop to stop, and end the process if it has not within `grace_s`
    (a job it was running loses its lease and is re-queued for another worker)."""
    raw = os.environ.get(ENV)
    if raw is None:
        return None  # started by hand (`limelight worker`): nobody to outlive
    fd = int(raw)

    def _wait_for_parent() -> None:
        try:
            while os.read(fd, 1):  # serve never writes; only EOF (or an error) ends this
                pass
        except OSError:
            pass
        log.warning("the server that started this worker is gone; stopping")
        stop.set()
        time.sleep(grace_s)
        log.warning("worker still busy %.0fs after its server died; exiting", grace_s)
        os._exit(1)

    thread = threading.Thread(target=_wait_for_parent, name="worker-lifeline", daemon=True)
    thread.start()
    return thread
