"""Every state change of a job that a worker (or the reaper) makes: claim, renew, succeed, fail,
re-queue, cancel, reap. Each is one transaction that first checks the job is still the caller's,
so a worker that lost its lease can never overwrite what the job's new owner or a user decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limelight.auth.delegation import acting_for
from limelight.auth.principal import Principal
from limelight.datasets import repository as datasets_repo
from limelight.datasets import service as datasets
from limelight.db.models import Job
from limelight.db.session import Database
from limelight.errors import LimelightError
from limelight.jobs import repository
from limelight.recipes import get_recipe
from limelight.recipes.base import RecipeResult
from limelight.registry import service as registry
from limelight.schemas.datasets import DatasetKind
from limelight.schemas.registry import Task, VersionMeta


@dataclass(frozen=True)
class Standing:
    """What the supervisor of a running job needs to know about it now."""

    ours: bool  # still running under this worker's lease
    cancel_requested: bool


def claim(db: Database, worker_id: str, lease_s: float) -> str | None:
    with db.transaction() as session:
        job = repository.claim_next(session, worker_id, lease_s)
        return job.id if job else None


def renew(db: Database, job_id: str, worker_id: str, lease_s: float) -> Standing:
    with db.transaction() as session:
        ours, cancel = repository.heartbeat(session, job_id, worker_id, lease_s)
    return Standing(ours=ours, cancel_requested=cancel)


def standing(db: Database, job_id: str, worker_id: str) -> Standing:
    """A read-only look, cheap enough to poll every half second."""
    with db.transaction(write=False) as session:
        ours, cancel = repository.standing(session, job_id, worker_id)
    return Standing(ours=ours, cancel_requested=cancel)


def reap_expired(db: Database) -> list[str]:
    """A running job whose lease expired lost its worker: re-queue it or fail it."""
    touched = []
    with db.transaction() as session:
        for job in repository.expired_running(session):
            repository.add_log(session, job.id, "worker lost (lease expired)", "error")
            _retry_or_fail(session, job, requeued=f"worker lost during attempt {job.attempts}; re-queued",
                           error="worker lost: its lease expired")
            touched.append(job.id)
    return touched


def succeed(db: Database, job_id: str, worker_id: str, result: RecipeResult, sha256: str, size: int) -> str:
    """Registers the version and ends the job ``succeeded`` in one transaction, only if the job is still
    ours and nobody asked to cancel it; a cancel that arrived meanwhile wins and no version is left."""
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id or job.state != "running":
            return "lost"
        if job.cancel_requested:
            return _end_cancelled(session, job)
        principal = job_principal(session, job)
        if result.dataset is not None:
            try:  # checked before anything is written: a refusal leaves the transaction clean
                outcome = _register_dataset(session, principal, job, result, sha256, size)
            except LimelightError as exc:  # e.g. a dataset of another kind took the name meanwhile
                error = f"{exc.code}: {exc.message}"
                repository.add_log(session, job.id, error, "error")
                repository.finish(session, job, "failed", error=error)
                return "failed"
            repository.finish(session, job, "succeeded", result=outcome)
            return "succeeded"
        model_name = job.model_name or job.recipe.replace("/", "-")
        registry.ensure_model(session, principal, principal.org_name, model_name, Task(get_recipe(job.recipe).task))
        meta = VersionMeta(runtime=result.runtime, format=result.format, signature=result.signature,
                           params=result.params, metrics=result.metrics, description=f"trained by job {job.id}")
        version = registry.register_version(
            session, principal, principal.org_name, model_name, sha256=sha256, size_bytes=size, fmt=result.format,
            meta=meta, dataset_version_id=job.dataset_version_id, job_id=job.id,
            card_facts=_card_facts(session, job, result))
        outcome = {"model": f"{principal.org_name}/{model_name}", "version": version.version,
                   "metrics": result.metrics, "summary": result.summary}
        if job.promote_alias:
            outcome["promotion"] = registry.promote_if_better(
                session, principal, model_name, version.version, alias=job.promote_alias,
                metric=result.gate_metric, metrics=result.metrics)
        repository.add_log(session, job.id, f"registered {outcome['model']} version {version.version}")
        repository.finish(session, job, "succeeded", result=outcome)
    return "succeeded"


def _card_facts(session: Any, job: Job, result: RecipeResult) -> dict[str, Any]:
    """What the model card states as facts about a version this job trained."""
    data = None
    found = datasets_repo.version_by_id(session, job.dataset_version_id) if job.dataset_version_id else None
    if found is not None:
        version, dataset = found
        data = {"name": dataset.name, "version": version.version, "kind": dataset.kind, "rows": version.rows}
    return {"recipe": job.recipe, "params": dict(job.params or {}), "dataset": data, "example": result.example,
            "serving": result.serving, "limitations": list(result.limitations),
            "candidates": result.summary.get("candidates") or None}


def _register_dataset(session: Any, principal: Principal, job: Job, result: RecipeResult, sha256: str,
                      size: int) -> dict[str, Any]:
    """A scoring job's table becomes a version of its output dataset, like an upload would."""
    out = result.dataset
    assert out is not None
    version = datasets.add_version(
        session, principal, principal.org_name, out.name, DatasetKind(out.kind), sha256=sha256, size_bytes=size,
        source_format="parquet", source_filename=out.source_filename, rows=out.rows, columns=out.columns,
        profile=out.profile, description=out.description)
    repository.add_log(session, job.id, f"stored dataset {principal.org_name}/{out.name} version {version.version}"
                                        f" ({out.rows} rows)")
    return {"dataset": out.name, "dataset_version": version.version, "rows": out.rows,
            "model": f"{principal.org_name}/{job.model_name}", "version": job.params.get("version"),
            "metrics": result.metrics, "summary": result.summary}


def fail(db: Database, job_id: str, worker_id: str, error: str) -> str:
    """A failed attempt re-queues the job while attempts remain, else fails it."""
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id:
            return "lost"
        repository.add_log(session, job_id, error, "error")
        return _retry_or_fail(session, job, requeued=f"attempt {job.attempts} failed; re-queued", error=error)


def cancelled(db: Database, job_id: str, worker_id: str) -> str:
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id:
            return "lost"
        return _end_cancelled(session, job)


def _end_cancelled(session: Any, job: Job) -> str:
    repository.add_log(session, job.id, "cancelled", "warning")
    repository.finish(session, job, "cancelled", error="cancelled")
    return "cancelled"


def _retry_or_fail(session: Any, job: Job, *, requeued: str, error: str) -> str:
    """The one rule for a failed attempt (the caller logged why): a job somebody asked to cancel ends
    cancelled (the attempt may have failed only because the cancel interrupted it, e.g. a SIGTERM that
    landed inside a library's ``except Exception``); otherwise re-queue while attempts remain, else fail."""
    if job.cancel_requested:
        return _end_cancelled(session, job)
    if job.attempts < job.max_attempts:
        job.state, job.lease_owner, job.lease_expires_at = "queued", None, None
        job.message = requeued
        repository.add_log(session, job.id, requeued, "warning")
        return "queued"
    repository.finish(session, job, "failed", error=error)
    return "failed"


def job_principal(session: Any, job: Job) -> Principal:
    """The job acts as the person who submitted it, with their current role."""
    return acting_for(session, job.org_id, job.created_by, request_id=f"job:{job.id}")
