"""Fork and retrain in one action: copy a visible model into the caller's org and submit a job that
trains it again on the caller's own data, with the recipe and parameters that made the version forked.

Both happen in one transaction: a retrain the jobs service refuses (a dataset of the wrong kind, a
missing catalog) leaves no fork behind.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import Job
from limelight.errors import NotRetrainable
from limelight.jobs import service as jobs
from limelight.marketplace import service as marketplace
from limelight.metering import quotas
from limelight.registry import service as registry
from limelight.schemas.jobs import JobCreate
from limelight.schemas.registry import ForkRead, ForkRequest


def fork(session: Session, principal: Principal, org: str, name: str, body: ForkRequest) -> ForkRead:
    retrain = body.retrain
    if retrain is None:
        return ForkRead(**marketplace.fork(session, principal, org, name, body).model_dump())
    authorize(principal, Permission.org_write, body.org)
    quotas.check_compute(session, principal.org_id)  # before copying anything: the retrain is a job
    source, owner = registry.visible_model(session, principal, org, name)
    version = registry.resolve(session, source, owner.name, version=None, alias=None)
    trained_by = session.get(Job, version.job_id) if version.job_id else None
    if trained_by is None:
        raise NotRetrainable(
            f"{owner.name}/{name} v{version.version} was uploaded as a file, not trained by a recipe, so there is "
            "no recipe to retrain it with: fork it without `retrain`, then train it yourself.",
            details={"field": "retrain", "version": version.version})
    forked = marketplace.fork(session, principal, org, name, ForkRequest(org=body.org, name=body.name))
    job = jobs.submit(session, principal, body.org, JobCreate(
        recipe=trained_by.recipe, params=dict(trained_by.params or {}), dataset=retrain.dataset,
        items_dataset=retrain.items_dataset, users_dataset=retrain.users_dataset, model=forked.name,
        promote=retrain.promote))
    return ForkRead(**forked.model_dump(), retrain_job=job.id)
