"""Supervises one claimed job: its computation runs in a child process (see ``workers.child``) while
this process renews the lease, watches for cancel requests and for the lease being taken away, and
finally records the job's end state (see ``jobs.lifecycle``).

The supervisor does no heavy work, so a fit that saturates the CPU or holds its GIL cannot delay
a renewal. A lost lease kills the child at once; a cancel asks it to stop (SIGTERM, which recipes
see through ``check_cancelled``) and kills it after ``CANCEL_GRACE_S``. The version row is written
only here, after the child finished, in the transaction that ends the job ``succeeded`` and only
while the job is still ours and not cancelled, so a cancelled or lost job leaves no version.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limelight.artifacts.store import ArtifactStore
from limelight.config import Settings
from limelight.datasets import repository as datasets_repo
from limelight.db.models import Job, Org
from limelight.db.session import Database
from limelight.errors import LimelightError
from limelight.jobs import lifecycle
from limelight.jobs.lifecycle import Standing
from limelight.recipes import get_recipe
from limelight.recipes.base import consumes
from limelight.registry import repository as registry_repo
from limelight.workers import child

log = logging.getLogger("limelight.worker")

WATCH_S = 0.5  # how often the supervisor looks at the job row and the child
CANCEL_GRACE_S = 2.0  # a cancelled child that has not stopped by then is killed
_SPAWN = multiprocessing.get_context("spawn")


def execute(db: Database, store: ArtifactStore, settings: Settings, job_id: str, worker_id: str) -> str:
    """Runs the job; returns its final state (or ``lost`` if another process took it over)."""
    try:
        spec = _spec(db, store, settings, job_id, worker_id)
    except LimelightError as exc:
        return lifecycle.fail(db, job_id, worker_id, f"{exc.code}: {exc.message}")
    computation = Computation.start(spec)
    try:
        return _supervise(db, settings, computation, job_id, worker_id)
    finally:
        computation.end(grace_s=2.0)


def _spec(db: Database, store: ArtifactStore, settings: Settings, job_id: str, worker_id: str) -> child.JobSpec:
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        org = session.get(Org, job.org_id)
        org_name = org.name if org else ""
        inputs = {role: str(path) for role, path in _input_paths(session, store, job).items()}
        model = _model_input(session, store, job, org_name)
        if model is not None:
            inputs["model"] = model.pop("artifact")
        return child.JobSpec(job_id=job_id, org=org_name, org_id=job.org_id, worker_id=worker_id,
                             recipe=job.recipe, params=dict(job.params), inputs=inputs,
                             database_url=settings.database_url, artifacts_url=settings.artifacts_url,
                             supervisor_pid=os.getpid(), dataset=_main_dataset_name(session, job), model=model)


def _model_input(session: Any, store: ArtifactStore, job: Job, org: str) -> dict[str, Any] | None:
    """The version a scoring job reads (fixed at submission as ``params.version``), else None."""
    if consumes(get_recipe(job.recipe)) != "model":
        return None
    model = registry_repo.model_by_name(session, job.org_id, job.model_name or "")
    version = registry_repo.version(session, model.id, int(job.params["version"])) if model else None
    if version is None:
        raise LimelightError(f"Version {job.params.get('version')} of {org}/{job.model_name} was deleted.")
    return {"ref": f"{org}/{job.model_name}", "version": version.version, "runtime_params": dict(version.params),
            "artifact": str(store.local_path(version.blob_sha256))}


def _main_dataset_name(session: Any, job: Job) -> str | None:
    found = datasets_repo.version_by_id(session, job.dataset_version_id) if job.dataset_version_id else None
    return found[1].name if found is not None else None


def _input_paths(session: Any, store: ArtifactStore, job: Job) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    ids = {"main": job.dataset_version_id} | dict(job.extra_dataset_version_ids or {})
    for role, version_id in ids.items():
        if version_id is None:
            continue
        found = datasets_repo.version_by_id(session, version_id)
        if found is None:
            raise LimelightError(f"The {role} dataset version of job {job.id} was deleted.")
        paths[role] = store.local_path(found[0].blob_sha256)
    return paths


def _supervise(db: Database, settings: Settings, computation: Computation, job_id: str, worker_id: str) -> str:
    next_renewal = time.monotonic() + settings.worker.heartbeat_s
    asked_to_stop_at: float | None = None
    while True:
        outcome = computation.outcome(WATCH_S)
        if outcome is not None:
            return _record(db, job_id, worker_id, outcome)
        if not computation.alive():
            if asked_to_stop_at is not None:
                return lifecycle.cancelled(db, job_id, worker_id)
            return lifecycle.fail(db, job_id, worker_id, f"the job's process died ({computation.exit_description()})")
        now = time.monotonic()
        renewing = now >= next_renewal
        try:
            standing = (lifecycle.renew(db, job_id, worker_id, settings.worker.lease_s) if renewing
                        else lifecycle.standing(db, job_id, worker_id))
        except Exception as exc:  # noqa: BLE001 - a busy database must not end the job; retry next look
            log.warning("checking job %s failed: %s", job_id, exc)
            continue
        if renewing:
            next_renewal = now + settings.worker.heartbeat_s
        stopped = _react(db, computation, standing, job_id, worker_id, asked_to_stop_at)
        if isinstance(stopped, str):
            return stopped
        asked_to_stop_at = stopped


def _react(db: Database, computation: Computation, standing: Standing, job_id: str, worker_id: str,
           asked_to_stop_at: float | None) -> str | float | None:
    """An end state when the child was ended, else when it was asked to stop (None: not asked)."""
    if not standing.ours:
        computation.kill()  # someone else owns the job now: not one more second of computing it
        log.warning("job %s: lease lost; its computation was killed", job_id)
        return "lost"
    if not standing.cancel_requested:
        return asked_to_stop_at
    if asked_to_stop_at is None:
        computation.ask_to_stop()
        return time.monotonic()
    if time.monotonic() - asked_to_stop_at >= CANCEL_GRACE_S:
        computation.kill()
        return lifecycle.cancelled(db, job_id, worker_id)
    return asked_to_stop_at


def _record(db: Database, job_id: str, worker_id: str, outcome: tuple[Any, ...]) -> str:
    kind = outcome[0]
    if kind == "done":
        _, result, sha256, size = outcome
        return lifecycle.succeed(db, job_id, worker_id, result, sha256, size)
    if kind == "cancelled":
        return lifecycle.cancelled(db, job_id, worker_id)
    return lifecycle.fail(db, job_id, worker_id, str(outcome[1]))


@dataclass
class Computation:
    """The child process of one job and its two pipes."""

    process: Any  # multiprocessing.context.SpawnProcess
    control: Any  # our end: CANCEL messages; closing it tells the child to exit
    results: Any  # our end: the child's one outcome tuple

    @classmethod
    def start(cls, spec: child.JobSpec) -> Computation:
        results_ours, results_theirs = _SPAWN.Pipe(duplex=False)
        control_theirs, control_ours = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(target=child.main, args=(spec, control_theirs, results_theirs),
                                 name=f"limelight-job-{spec.job_id}", daemon=True)
        process.start()
        # only the child holds these ends now, so EOF on either side means the other is gone
        results_theirs.close()
        control_theirs.close()
        log.info("job %s computing in process %s", spec.job_id, process.pid)
        return cls(process, control_ours, results_ours)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def outcome(self, wait_s: float) -> tuple[Any, ...] | None:
        try:
            if self.results.poll(wait_s):
                return self.results.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            time.sleep(min(wait_s, 0.05))  # the child died without a word; alive() says so next
        return None

    def alive(self) -> bool:
        return self.process.is_alive()

    def exit_description(self) -> str:
        code = self.process.exitcode
        return f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError):
            self.control.send(child.CANCEL)
        if self.process.is_alive():
            self.process.terminate()

    def kill(self) -> None:
        self.end(grace_s=0.0)

    def end(self, grace_s: float) -> None:
        """Lets a child that already reported exit on its own for ``grace_s``, then kills it."""
        self.process.join(grace_s)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        for end in (self.control, self.results):
            end.close()
