"""Retraining policies: when a model is due, a job on its latest data is submitted for it.

The policy lives on the model row (``retrain_policy``). Workers call ``submit_due`` on their poll
loop; a model with a queued or running job is never submitted twice. The submitted job acts as the
person who set the policy, with their current role.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.delegation import acting_for
from limelight.auth.principal import Permission, Principal
from limelight.datasets import repository as datasets_repo
from limelight.db.base import utcnow
from limelight.db.models import Job, Model, Org
from limelight.errors import InvalidParams, NotFound
from limelight.events import repository as events_repo
from limelight.jobs import service as jobs
from limelight.registry import service as registry
from limelight.schemas.jobs import JobCreate
from limelight.schemas.registry import RetrainPolicy, RetrainPolicyRead


def set_policy(session: Session, principal: Principal, org: str, name: str, policy: RetrainPolicy) -> RetrainPolicyRead:
    model = registry.own_model(session, principal, org, name, Permission.org_maintain)
    if policy.every_hours is None and policy.after_events is None:
        raise InvalidParams("Give every_hours, after_events or both.", details={"field": "every_hours"})
    jobs.validate_params(jobs.get_recipe(policy.recipe).Params, policy.params)
    stored = policy.model_dump(mode="json") | {"owner": principal.username,
                                               "last_event_seq": events_repo.max_seq(session),
                                               "last_submitted_at": utcnow().isoformat()}
    model.retrain_policy = stored
    audit.record(session, principal, "model.retrain_policy", "model", f"{org}/{name}", policy.model_dump(mode="json"))
    return RetrainPolicyRead(model=name, org=org, **stored)


def get_policy(session: Session, principal: Principal, org: str, name: str) -> RetrainPolicyRead:
    model = registry.own_model(session, principal, org, name, Permission.org_read)
    if not model.retrain_policy:
        raise NotFound(f"{org}/{name} has no retraining policy.")
    return RetrainPolicyRead(model=name, org=org, **model.retrain_policy)


def is_due(policy: dict[str, Any], *, now: datetime, new_events: int) -> bool:
    last = datetime.fromisoformat(policy["last_submitted_at"]) if policy.get("last_submitted_at") else None
    if policy.get("every_hours") and (last is None or now - last >= timedelta(hours=policy["every_hours"])):
        return True
    return bool(policy.get("after_events") and new_events >= policy["after_events"])


def submit_due(session: Session) -> list[str]:
    """Submits a retraining job for every model whose policy is due; returns the job ids."""
    submitted = []
    now = utcnow()
    for model, org in session.execute(select(Model, Org).join(Org, Org.id == Model.org_id)
                                      .where(Model.archived.is_(False))).all():
        policy = dict(model.retrain_policy or {})
        if not policy or _has_open_job(session, model):
            continue
        seq_now = events_repo.max_seq(session)
        new_events = events_repo.count_since(session, model.org_id, int(policy.get("last_event_seq", 0)),
                                             dataset=_event_stream(session, model.org_id, policy.get("dataset")))
        if not is_due(policy, now=now, new_events=new_events):
            continue
        owner = acting_for(session, model.org_id, policy["owner"], request_id=f"retrain:{model.name}")
        job = jobs.submit(session, owner, org.name, JobCreate(
            recipe=policy["recipe"], dataset=policy["dataset"], items_dataset=policy.get("items_dataset"),
            params=policy.get("params", {}), model=model.name, promote=policy.get("promote")))
        model.retrain_policy = policy | {"last_submitted_at": now.isoformat(), "last_event_seq": seq_now}
        submitted.append(job.id)
    return submitted


def _event_stream(session: Session, org_id: str, dataset: str | None) -> str | None:
    """An interactions dataset counts only its own events; other datasets (tabular churn, …) have no
    stream of their own, so any event of the org counts toward their "after N events"."""
    found = datasets_repo.by_name(session, org_id, dataset) if dataset else None
    return dataset if found is not None and found.kind == "interactions" else None


def _has_open_job(session: Session, model: Model) -> bool:
    return session.scalars(select(Job.id).where(Job.org_id == model.org_id, Job.model_name == model.name,
                                                Job.state.in_(("queued", "running"))).limit(1)).first() is not None
