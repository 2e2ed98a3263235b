"""The process that computes one job: the recipe's fit and the artifact it writes.

The worker runs each job here, in a fresh interpreter (multiprocessing's ``spawn``: no fork of a
process with threads), so its own loop stays free to renew the lease however hard the fit holds
the CPU or the GIL, and so it can end the fit at any moment by signal. The child writes its logs and
progress to the jobs table itself (the log stream reads them there) and reports its outcome through
a pipe; the supervisor alone writes the job's end state and its model version.

It never outlives its worker: the kernel sends it SIGKILL when the worker dies (PR_SET_PDEATHSIG),
and it exits when its control pipe from the worker reaches EOF.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger("limelight.worker")

CANCEL = "cancel"


@dataclass(frozen=True)
class JobSpec:
    """Everything the child needs, picklable: it opens its own database and store."""

    job_id: str
    org: str
    org_id: str
    worker_id: str
    recipe: str
    params: dict[str, Any]
    inputs: dict[str, str]
    database_url: str
    artifacts_url: str
    supervisor_pid: int
    dataset: str | None = None  # the main dataset's name: its event stream is the job's live events
    model: dict[str, Any] | None = None  # a scoring job's model version (its artifact is inputs["model"])


def main(spec: JobSpec, control: Connection, results: Connection) -> None:
    """The child's entry point; sends exactly one outcome tuple on ``results`` unless it is killed."""
    _die_with(spec.supervisor_pid)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[job] %(message)s")
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, _cancelling(cancel))
    threading.Thread(target=_listen, args=(control, cancel), name="job-control", daemon=True).start()
    outcome = _compute(spec, cancel)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # never cut the outcome in half; SIGKILL still ends us
    results.send(outcome)
    results.close()


def _cancelling(cancel: threading.Event) -> Any:
    """SIGTERM means cancel. Raising from the handler stops the fit at its next Python line even if it
    never calls ``check_cancelled`` (an ALS fit between iterations); whatever it leaves half done dies
    with this process. A fit stuck in native code is killed by the supervisor after its grace period."""
    from limelight.recipes.base import JobCancelled

    def handle(_signum: int, _frame: object) -> None:
        if not cancel.is_set():
            cancel.set()
            raise JobCancelled()

    return handle


def _compute(spec: JobSpec, cancel: threading.Event) -> tuple[Any, ...]:
    from limelight.artifacts.registry import open_store
    from limelight.db.session import open_database
    from limelight.errors import LimelightError
    from limelight.recipes import get_recipe
    from limelight.recipes.base import JobCancelled
    from limelight.workers.context import WorkerJobContext

    db = open_database(spec.database_url, pool_size=1)
    store = open_store(spec.artifacts_url)
    try:
        with tempfile.TemporaryDirectory(prefix="limelight-job-") as tmp, store.stage() as staged:
            ctx = WorkerJobContext(job_id=spec.job_id, org=spec.org, org_id=spec.org_id, workdir=Path(tmp), db=db,
                                   worker_id=spec.worker_id, inputs={k: Path(v) for k, v in spec.inputs.items()},
                                   output=staged.path, cancel_event=cancel, dataset=spec.dataset,
                                   model=spec.model)
            try:
                ctx.log(f"started {spec.recipe} on worker {spec.worker_id} (process {os.getpid()})")
                recipe = get_recipe(spec.recipe)
                result = recipe.run(ctx, recipe.Params.model_validate(spec.params))
                ctx.check_cancelled()
                if result.example is not None:
                    result.serving = _probe(ctx, result, staged.path)
                ref = staged.commit()
                return ("done", result, ref.sha256, ref.size_bytes)
            except JobCancelled:
                return ("cancelled",)
            except LimelightError as exc:
                return ("error", f"{exc.code}: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - a recipe bug must fail the job, not the worker
                log.error("job %s failed:\n%s", spec.job_id, traceback.format_exc())
                return ("error", f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()


def _probe(ctx: Any, result: Any, artifact: Path) -> dict[str, Any] | None:
    """The example call's in-process latency for the model card; a failure leaves the card without
    it (and says why in the job's log) but never fails a model that trained."""
    from limelight.workers.serving_probe import probe

    try:
        measured = probe(result.runtime, artifact, result.params, result.example, ctx.org)
    except Exception as exc:  # noqa: BLE001 - any runtime's error: the model stands, the card says less
        ctx.log(f"the model card's example call failed: {type(exc).__name__}: {exc}", "warning")
        return None
    ctx.log(f"example {result.example['verb']} call: p50 {measured['p50_ms']} ms, p99 {measured['p99_ms']} ms "
            f"in process ({measured['calls']} calls)")
    return measured


def _listen(control: Connection, cancel: threading.Event) -> None:
    try:
        while True:
            if control.recv() == CANCEL:
                cancel.set()
    except (EOFError, OSError):
        pass
    # EOF: the worker is gone (or closed the pipe to end us); its job is no longer ours to compute
    os._exit(1)


def _die_with(supervisor_pid: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != supervisor_pid:  # the worker died before the line above took effect
        os._exit(1)
