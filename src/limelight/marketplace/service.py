"""The marketplace: every model the caller may see, and forks of public models into one's own org."""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import ModelAlias, ModelVersion
from limelight.registry import repository as registry_repo
from limelight.registry import service as registry
from limelight.schemas.registry import ForkRequest, ModelCreate, ModelRead, Task, Visibility


def search(session: Session, principal: Principal, *, q: str | None, task: str | None, tag: str | None,
           after: tuple[str, str] | None, limit: int) -> list[ModelRead]:
    authorize(principal, Permission.org_read)
    rows = registry_repo.search(session, org_id=principal.org_id, q=q, task=task, tag=tag, after=after, limit=limit)
    return [registry.model_read(session, model, org.name) for model, org in rows]


def fork(session: Session, principal: Principal, org: str, name: str, body: ForkRequest) -> ModelRead:
    """Copies a visible model and its production (else latest) version into the caller's org.

    Artifacts are content-addressed, so the fork shares the blob; nothing is copied on disk.
    """
    source, owner = registry.visible_model(session, principal, org, name)
    authorize(principal, Permission.org_write, body.org)
    version = registry.resolve(session, source, owner.name, version=None, alias=None)
    target_name = body.name or source.name
    registry.create_model(
        session, principal, body.org,
        ModelCreate(name=target_name, task=Task(source.task), description=source.description,
                    tags=source.tags or [], visibility=Visibility.private, card=source.card),
        forked_from=f"{owner.name}/{source.name}@{version.version}",
    )
    target = registry_repo.model_by_name(session, principal.org_id, target_name)
    assert target is not None
    target.latest_version = 1
    copy = ModelVersion(
        model_id=target.id, version=1, blob_sha256=version.blob_sha256, size_bytes=version.size_bytes,
        format=version.format, runtime=version.runtime, signature=version.signature, params=version.params,
        metrics=version.metrics, description=f"fork of {owner.name}/{source.name} v{version.version}",
        created_by=principal.username, validation=version.validation,
    )
    session.add(copy)
    session.flush()
    session.add(ModelAlias(model_id=target.id, alias="production", version_id=copy.id))
    session.flush()
    audit.record(session, principal, "model.fork", "model", f"{body.org}/{target_name}",
                 {"source": f"{owner.name}/{source.name}", "version": version.version})
    return registry.model_read(session, target, body.org)
