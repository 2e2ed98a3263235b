"""Jobs: submit, observe, cancel, retry. Workers run them (see limelight.workers)."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.datasets import service as datasets
from limelight.db.models import Job
from limelight.errors import Conflict, InvalidParams, NotFound
from limelight.jobs import repository
from limelight.metering import quotas
from limelight.recipes import all_recipes, get_recipe
from limelight.recipes.base import Recipe, consumes, produces
from limelight.registry import repository as registry_repo
from limelight.registry import service as registry
from limelight.schemas.datasets import DatasetKind
from limelight.schemas.jobs import TERMINAL_STATES, JobCreate, JobLogRead, JobRead, JobState, RecipeRead


def submit(session: Session, principal: Principal, org: str, body: JobCreate) -> JobRead:
    authorize(principal, Permission.org_write, org)
    quotas.check_compute(session, principal.org_id)  # 403 once the month's compute seconds are used
    recipe = get_recipe(body.recipe)
    params = validate_params(recipe.Params, body.params)
    if consumes(recipe) == "model":
        return _submit_scoring(session, principal, org, body, recipe, params)
    if body.dataset is None:
        raise InvalidParams("This recipe needs a dataset.", details={"field": "dataset"})
    version, dataset = datasets.resolve_version(session, principal, org, body.dataset, body.dataset_version)
    accepted = (recipe.dataset_kind, *getattr(recipe, "also_accepts", ()))
    if dataset.kind not in accepted:
        raise InvalidParams(f"{recipe.name} trains on {' or '.join(map(repr, accepted))} datasets; "
                            f"{body.dataset!r} is {dataset.kind!r}.", details={"field": "dataset"})
    extra: dict[str, str] = {}
    if getattr(recipe, "requires_items", False) and not body.items_dataset:
        raise InvalidParams(f"{recipe.name} needs an items catalog (items_dataset): it embeds the item texts.",
                            details={"field": "items_dataset"})
    if body.items_dataset:
        items_version, items = datasets.resolve_version(session, principal, org, body.items_dataset, None)
        if items.kind != "items":
            raise InvalidParams(f"{body.items_dataset!r} is not an items catalog.", details={"field": "items_dataset"})
        extra["items"] = items_version.id
    if body.users_dataset:
        users_version, users = datasets.resolve_version(session, principal, org, body.users_dataset, None)
        if users.kind != "users":
            raise InvalidParams(f"{body.users_dataset!r} is not a users dataset.", details={"field": "users_dataset"})
        extra["users"] = users_version.id
    check_dataset = getattr(recipe, "check_dataset", None)
    if check_dataset is not None:  # a recipe may refuse, before queueing, what the data's profile rules out
        check_dataset(params, dict(version.profile or {}))
    model = registry_repo.model_by_name(session, principal.org_id, body.model)
    if model is not None and model.task != recipe.task:
        raise Conflict(f"Model {org}/{body.model} has task {model.task!r}; {recipe.name} makes {recipe.task!r}.")
    job = Job(org_id=principal.org_id, recipe=recipe.name, params=params, dataset_version_id=version.id,
              extra_dataset_version_ids=extra, model_name=body.model, max_attempts=body.max_attempts, promote_alias=body.promote,
              created_by=principal.username)
    session.add(job)
    session.flush()
    audit.record(session, principal, "job.submit", "job", job.id,
                 {"recipe": recipe.name, "dataset": f"{body.dataset}/{version.version}", "model": body.model})
    return job_read(job, org)


def _submit_scoring(session: Session, principal: Principal, org: str, body: JobCreate, recipe: Recipe,
                    params: dict[str, object]) -> JobRead:
    """A job that reads a version of ``body.model`` and writes a dataset (``params.output_dataset``):
    the version is fixed now, so a retry or a later promotion scores with the same one."""
    for field, given in (("dataset", body.dataset), ("items_dataset", body.items_dataset),
                         ("users_dataset", body.users_dataset), ("promote", body.promote)):
        if given is not None:
            raise InvalidParams(f"{recipe.name} reads the model's version and writes params.output_dataset; "
                                f"{field} does not apply.", details={"field": field})
    model = registry_repo.model_by_name(session, principal.org_id, body.model)
    if model is None:
        raise NotFound.model(org, body.model)
    if model.task != recipe.task:
        raise Conflict(f"{recipe.name} reads {recipe.task!r} models; {org}/{body.model} is {model.task!r}.",
                       details={"field": "model"})
    version = registry.resolve(session, model, org, version=params.get("version"),  # type: ignore[arg-type]
                               alias=params.get("alias"))  # type: ignore[arg-type]
    if (version.validation or {}).get("status", "passed") != "passed":
        raise Conflict(f"Version {version.version} of {org}/{body.model} did not pass validation.",
                       details={"field": "model"})
    output = str(params["output_dataset"])
    datasets.check_can_upload(session, principal, org, output, DatasetKind(recipe.dataset_kind))
    params = {**params, "version": version.version}
    job = Job(org_id=principal.org_id, recipe=recipe.name, params=params, dataset_version_id=None,
              model_name=body.model, max_attempts=body.max_attempts, created_by=principal.username)
    session.add(job)
    session.flush()
    audit.record(session, principal, "job.submit", "job", job.id,
                 {"recipe": recipe.name, "model": f"{body.model}/{version.version}", "output_dataset": output})
    return job_read(job, org)


def validate_params(params_type: type[BaseModel], raw: dict[str, object]) -> dict[str, object]:
    try:
        return params_type.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        fields = [{"field": "params." + ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        raise InvalidParams(f"Invalid {fields[0]['field']}: {fields[0]['reason']}", details={"fields": fields}) from exc


def get(session: Session, principal: Principal, org: str, job_id: str) -> JobRead:
    return job_read(_own(session, principal, org, job_id), org)


def list_jobs(session: Session, principal: Principal, org: str, *, before: tuple[str, str] | None, limit: int,
              state: str | None = None, model: str | None = None) -> list[JobRead]:
    authorize(principal, Permission.org_read, org)
    return [job_read(j, org) for j in repository.of_org(session, principal.org_id, before=before, limit=limit,
                                                         state=state, model_name=model)]


def cancel(session: Session, principal: Principal, org: str, job_id: str) -> JobRead:
    authorize(principal, Permission.org_write, org)
    job = _own(session, principal, org, job_id)
    if JobState(job.state) in TERMINAL_STATES:
        return job_read(job, org)
    if job.state == JobState.queued.value:
        repository.finish(session, job, JobState.cancelled.value, error="cancelled before it started")
    else:
        job.cancel_requested = True  # the worker sees it at its next heartbeat and stops
    audit.record(session, principal, "job.cancel", "job", job.id)
    return job_read(job, org)


def retry(session: Session, principal: Principal, org: str, job_id: str) -> JobRead:
    authorize(principal, Permission.org_write, org)
    job = _own(session, principal, org, job_id)
    if job.state not in (JobState.failed.value, JobState.cancelled.value):
        raise Conflict(f"Only failed or cancelled jobs can be retried; this one is {job.state}.")
    quotas.check_compute(session, principal.org_id)
    job.state, job.cancel_requested, job.progress, job.message = JobState.queued.value, False, 0.0, "retry"
    job.error, job.finished_at, job.max_attempts = None, None, job.attempts + 1
    audit.record(session, principal, "job.retry", "job", job.id)
    return job_read(job, org)


def logs(session: Session, principal: Principal, org: str, job_id: str, after_seq: int) -> list[JobLogRead]:
    _own(session, principal, org, job_id)
    return [JobLogRead(seq=r.seq, ts=r.ts, level=r.level, message=r.message)
            for r in repository.logs_after(session, job_id, after_seq)]


def recipes() -> list[RecipeRead]:
    return [RecipeRead(name=r.name, task=r.task, dataset_kind=r.dataset_kind, description=r.description,
                       params_schema=r.Params.model_json_schema(), consumes=consumes(r),
                       produces=produces(r)) for r in all_recipes().values()]


def _own(session: Session, principal: Principal, org: str, job_id: str) -> Job:
    authorize(principal, Permission.org_read, org)
    job = repository.get(session, principal.org_id, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} not found.")
    return job


def job_read(job: Job, org: str) -> JobRead:
    return JobRead(id=job.id, org=org, recipe=job.recipe, params=job.params, model=job.model_name,
                   dataset_version_id=job.dataset_version_id, state=JobState(job.state), progress=job.progress,
                   message=job.message, attempts=job.attempts, max_attempts=job.max_attempts, error=job.error,
                   result=job.result, promote=job.promote_alias, created_by=job.created_by, created_at=job.created_at,
                   started_at=job.started_at, finished_at=job.finished_at)
