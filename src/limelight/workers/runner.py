"""Runs one claimed job: inputs, heartbeats, the recipe, then the version and the job's end state.

The version row and the job's ``succeeded`` state are written in one transaction, after the
artifact is durable, so a crash anywhere leaves either no version or a complete one.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

from limelight.artifacts.store import ArtifactStore
from limelight.audit import service as audit
from limelight.auth.principal import Principal
from limelight.config import Settings
from limelight.datasets import repository as datasets_repo
from limelight.db.models import Job, Org
from limelight.db.session import Database
from limelight.errors import LimelightError
from limelight.jobs import repository
from limelight.recipes import get_recipe
from limelight.recipes.base import JobCancelled, RecipeResult
from limelight.registry import repository as registry_repo
from limelight.registry import service as registry
from limelight.schemas.registry import Task, VersionMeta
from limelight.schemas.tenancy import Role, Scope
from limelight.workers.context import WorkerJobContext

log = logging.getLogger("limelight.worker")


class LeaseLost(Exception):
    pass


def execute(db: Database, store: ArtifactStore, settings: Settings, job_id: str, worker_id: str) -> str:
    """Runs the job; returns its final state (or ``lost`` if another process took it over)."""
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        org = session.get(Org, job.org_id)
        inputs = _input_paths(session, store, job)
        dataset = _main_dataset_name(session, job)
        recipe_name, params, org_name, org_id = job.recipe, dict(job.params), org.name if org else "", job.org_id
    with tempfile.TemporaryDirectory(prefix="limelight-job-") as tmp, store.stage() as staged:
        ctx = WorkerJobContext(job_id=job_id, org=org_name, org_id=org_id, workdir=Path(tmp), db=db, worker_id=worker_id,
                               inputs=inputs, output=staged.path, dataset=dataset)
        stop_heartbeat = threading.Event()
        beats = threading.Thread(target=_heartbeat_loop, args=(db, settings, ctx, stop_heartbeat), daemon=True)
        beats.start()
        try:
            ctx.log(f"started {recipe_name} on worker {worker_id}")
            recipe = get_recipe(recipe_name)
            result = recipe.run(ctx, recipe.Params.model_validate(params))
            ctx.check_cancelled()
            ref = staged.commit()
            return _succeed(db, job_id, worker_id, result, ref.sha256, ref.size_bytes)
        except JobCancelled:
            return _end(db, job_id, worker_id, "lost" if ctx.lost_event.is_set() else "cancelled", "cancelled")
        except LimelightError as exc:
            return _fail(db, job_id, worker_id, f"{exc.code}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - a recipe bug must fail the job, not the worker
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            return _fail(db, job_id, worker_id, f"{type(exc).__name__}: {exc}")
        finally:
            stop_heartbeat.set()
            beats.join(5)


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


def _heartbeat_loop(db: Database, settings: Settings, ctx: WorkerJobContext, stop: threading.Event) -> None:
    while not stop.wait(settings.worker.heartbeat_s):
        try:
            with db.transaction() as session:
                ours, cancel = repository.heartbeat(session, ctx.job_id, ctx.worker_id, settings.worker.lease_s)
        except Exception:  # noqa: BLE001 - a busy database must not kill the heartbeat thread
            log.warning("heartbeat for job %s failed; retrying", ctx.job_id)
            continue
        if cancel:
            ctx.cancel_event.set()
        if not ours:
            ctx.lost_event.set()
            return


def job_principal(session: Any, job: Job) -> Principal:
    """The job acts as the person who submitted it, with their current role."""
    from limelight.auth import repository as auth_repo

    user = auth_repo.user_by_name(session, job.created_by)
    org = session.get(Org, job.org_id)
    member = auth_repo.membership(session, user.id, job.org_id) if user else None
    if user is None or org is None or member is None:
        raise LimelightError("The job's submitter is no longer a member of its organization.")
    return Principal(user_id=user.id, username=user.username, org_id=org.id, org_name=org.name,
                     role=Role(member.role), scopes=frozenset(Scope), is_admin=user.is_admin,
                     request_id=f"job:{job.id}")


def _succeed(db: Database, job_id: str, worker_id: str, result: RecipeResult, sha256: str, size: int) -> str:
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id or job.state != "running":
            return "lost"
        principal = job_principal(session, job)
        model_name = job.model_name or job.recipe.replace("/", "-")
        registry.ensure_model(session, principal, principal.org_name, model_name, Task(get_recipe(job.recipe).task))
        meta = VersionMeta(runtime=result.runtime, format=result.format, signature=result.signature,
                           params=result.params, metrics=result.metrics, description=f"trained by job {job.id}")
        version = registry.register_version(
            session, principal, principal.org_name, model_name, sha256=sha256, size_bytes=size, fmt=result.format,
            meta=meta, dataset_version_id=job.dataset_version_id, job_id=job.id)
        outcome = {"model": f"{principal.org_name}/{model_name}", "version": version.version,
                   "metrics": result.metrics, "summary": result.summary}
        if job.promote_alias:
            outcome["promotion"] = promote_if_better(session, principal, model_name, version.version, result,
                                                     job.promote_alias)
        repository.add_log(session, job.id, f"registered {outcome['model']} version {version.version}")
        repository.finish(session, job, "succeeded", result=outcome)
    return "succeeded"


def promote_if_better(session: Any, principal: Principal, model_name: str, number: int, result: RecipeResult,
                      alias: str) -> dict[str, Any]:
    """Moves ``alias`` to the new version only if its gate metric is at least the current one's."""
    org = principal.org_name
    model = registry_repo.model_by_name(session, principal.org_id, model_name)
    assert model is not None
    current_number = registry_repo.aliases(session, model.id).get(alias)
    metric = result.gate_metric
    new_value = result.metrics.get(metric) if metric else None
    current_value = None
    if current_number is not None and metric:
        current = registry_repo.version(session, model.id, current_number)
        current_value = current.metrics.get(metric) if current else None
    passed = current_number is None or current_value is None or (
        new_value is not None and float(new_value) >= float(current_value))
    gate = {"metric": metric, "new": new_value, "current": current_value, "current_version": current_number,
            "new_version": number, "passed": passed}
    if passed:
        registry.set_alias(session, principal, org, model_name, alias, number, details={"gate": gate})
    else:
        audit.record(session, principal, "alias.gate_refused", "model_alias", f"{org}/{model_name}@{alias}",
                     {"gate": gate})
    return gate


def _fail(db: Database, job_id: str, worker_id: str, error: str) -> str:
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id:
            return "lost"
        repository.add_log(session, job_id, error, "error")
        if job.attempts < job.max_attempts:
            job.state, job.lease_owner, job.lease_expires_at = "queued", None, None
            job.message = f"attempt {job.attempts} failed; re-queued"
            return "queued"
        repository.finish(session, job, "failed", error=error)
    return "failed"


def _end(db: Database, job_id: str, worker_id: str, state: str, message: str) -> str:
    if state == "lost":
        return "lost"
    with db.transaction() as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id:
            return "lost"
        repository.add_log(session, job_id, message, "warning")
        repository.finish(session, job, state, error=message)
    return state
