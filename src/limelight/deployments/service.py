"""Deployments: how a model is served (weighted routes over versions, batching, limits)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal
from limelight.db.base import utcnow
from limelight.db.models import Deployment, Model
from limelight.errors import InvalidParams, NotFound
from limelight.registry import service as registry
from limelight.schemas.registry import DeploymentRead, DeploymentSpec, Route


def put(session: Session, principal: Principal, org: str, name: str, spec: DeploymentSpec) -> DeploymentRead:
    model = registry.own_model(session, principal, org, name, Permission.org_maintain)
    versions = [r.version for r in spec.routes] + ([spec.shadow.version] if spec.shadow else [])
    if len(set(r.version for r in spec.routes)) != len(spec.routes):
        raise InvalidParams("Each version may appear in only one route.")
    for number in versions:
        registry.version_of(session, model, org, number)
    row = session.get(Deployment, model.id)
    values = {"routes": [r.model_dump() for r in spec.routes], "shadow": spec.shadow.model_dump() if spec.shadow else None,
              "sticky_field": spec.sticky_field, "max_batch_size": spec.max_batch_size, "max_wait_ms": spec.max_wait_ms,
              "max_queue": spec.max_queue, "timeout_ms": spec.timeout_ms, "event_weights": spec.event_weights}
    if row is None:
        row = Deployment(model_id=model.id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    session.flush()
    audit.record(session, principal, "deployment.put", "deployment", f"{org}/{name}",
                 {"routes": values["routes"], "shadow": values["shadow"]})
    return read(row, model, org)


def get(session: Session, principal: Principal, org: str, name: str) -> DeploymentRead:
    model = registry.own_model(session, principal, org, name, Permission.org_read)
    row = session.get(Deployment, model.id)
    if row is None:
        raise NotFound(f"{org}/{name} has no deployment.")
    return read(row, model, org)


def delete(session: Session, principal: Principal, org: str, name: str) -> None:
    """Back to default routing: the production alias, else the latest version."""
    model = registry.own_model(session, principal, org, name, Permission.org_maintain)
    row = session.get(Deployment, model.id)
    if row is None:
        raise NotFound(f"{org}/{name} has no deployment.")
    session.delete(row)
    session.flush()
    audit.record(session, principal, "deployment.delete", "deployment", f"{org}/{name}", {"routes": row.routes})


def spec_for(session: Session, model: Model) -> DeploymentSpec | None:
    row = session.get(Deployment, model.id)
    if row is None:
        return None
    return DeploymentSpec(routes=[Route(**r) for r in row.routes], shadow=Route(**row.shadow) if row.shadow else None,
                          sticky_field=row.sticky_field, max_batch_size=row.max_batch_size,
                          max_wait_ms=row.max_wait_ms, max_queue=row.max_queue, timeout_ms=row.timeout_ms,
                          event_weights=row.event_weights)


def read(row: Deployment, model: Model, org: str) -> DeploymentRead:
    return DeploymentRead(
        model=model.name, org=org, routes=[Route(**r) for r in row.routes],
        shadow=Route(**row.shadow) if row.shadow else None, sticky_field=row.sticky_field,
        max_batch_size=row.max_batch_size, max_wait_ms=row.max_wait_ms, max_queue=row.max_queue,
        timeout_ms=row.timeout_ms, event_weights=row.event_weights, updated_at=row.updated_at,
    )
