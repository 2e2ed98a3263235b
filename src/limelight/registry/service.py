"""The model registry's rules: names, immutable versions, atomic aliases, archive and delete.

Reads of another org's model succeed only when it is public or shared with the caller's org;
everything else about a foreign org answers 404, exactly like a missing object.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.base import utcnow
from limelight.db.models import Model, ModelAlias, ModelVersion, Org
from limelight.errors import AlreadyExists, InUse, InvalidName, NotFound
from limelight.registry import repository
from limelight.registry.cards import build_card
from limelight.schemas.common import NAME_PATTERN
from limelight.schemas.registry import (
    ModelCard,
    ModelCreate,
    ModelRead,
    ModelUpdate,
    ModelVersionRead,
    ShareAccess,
    Task,
    VersionMeta,
    Visibility,
)

_NAME_RE = re.compile(NAME_PATTERN)


def check_name(name: str, what: str = "name") -> str:
    if not _NAME_RE.match(name):
        raise InvalidName(f"Invalid {what} {name!r}: use lowercase letters, digits, '-' and '_' (max 64).")
    return name


# ---- lookups -------------------------------------------------------------------------------

def own_model(session: Session, principal: Principal, org: str, name: str, permission: Permission,
              *, for_update: bool = False) -> Model:
    """A model of the caller's own org, for actions that need ``permission``."""
    authorize(principal, permission, org)
    model = repository.model_by_name(session, principal.org_id, name, for_update=for_update)
    if model is None:
        raise NotFound.model(org, name)
    return model


def visible_model(session: Session, principal: Principal, org: str, name: str,
                  permission: Permission = Permission.org_read) -> tuple[Model, Org]:
    """A model the caller may read (or predict with): their own org's, any public one, or one shared
    with their org (an ``invoke`` share only for ``Permission.org_predict``)."""
    if not principal.can(permission):
        authorize(principal, permission)
    found = repository.model_with_org(session, org, name)
    if found is None:
        raise NotFound.model(org, name)
    model, owner = found
    if owner.id != principal.org_id and model.visibility != Visibility.public.value:
        access = repository.share_access(session, model.id, principal.org_id)
        if access is None or (access == ShareAccess.invoke.value and permission is not Permission.org_predict):
            raise NotFound.model(org, name)
    return model, owner


def version_of(session: Session, model: Model, org: str, number: int) -> ModelVersion:
    found = repository.version(session, model.id, number)
    if found is None:
        raise NotFound(f"Version {number} of {org}/{model.name} not found.")
    return found


def resolve(session: Session, model: Model, org: str, *, version: int | None, alias: str | None) -> ModelVersion:
    """The version an inference call means: an explicit number, an alias, else production, else latest."""
    if version is not None:
        return version_of(session, model, org, version)
    names = repository.aliases(session, model.id)
    wanted = alias or "production"
    if wanted in names:
        return version_of(session, model, org, names[wanted])
    if alias is not None:
        raise NotFound(f"Alias {alias!r} of {org}/{model.name} not found.")
    if model.latest_version == 0:
        raise NotFound(f"{org}/{model.name} has no versions yet.")
    return version_of(session, model, org, model.latest_version)


# ---- models --------------------------------------------------------------------------------

def create_model(session: Session, principal: Principal, org: str, body: ModelCreate,
                 *, forked_from: str | None = None) -> ModelRead:
    authorize(principal, Permission.org_write, org)
    if body.visibility is Visibility.public:
        authorize(principal, Permission.org_maintain)
    if repository.model_by_name(session, principal.org_id, body.name) is not None:
        raise AlreadyExists(f"Model {org}/{body.name} already exists.")
    model = Model(org_id=principal.org_id, name=body.name, task=body.task.value, description=body.description,
                  tags=list(dict.fromkeys(body.tags)), visibility=body.visibility.value, card=body.card,
                  forked_from=forked_from, licence=body.licence)
    session.add(model)
    session.flush()
    audit.record(session, principal, "model.create", "model", f"{org}/{body.name}",
                 {"task": body.task.value, "visibility": body.visibility.value, "forked_from": forked_from})
    return model_read(session, model, org)


def ensure_model(session: Session, principal: Principal, org: str, name: str, task: Task) -> Model:
    model = repository.model_by_name(session, principal.org_id, name)
    if model is None:
        create_model(session, principal, org, ModelCreate(name=name, task=task))
        model = repository.model_by_name(session, principal.org_id, name)
    assert model is not None
    return model


def update_model(session: Session, principal: Principal, org: str, name: str, body: ModelUpdate) -> ModelRead:
    changes = body.model_dump(exclude_none=True)
    needed = Permission.org_maintain if {"visibility", "archived"} & changes.keys() else Permission.org_write
    model = own_model(session, principal, org, name, needed)
    for key, value in changes.items():
        setattr(model, key, value.value if isinstance(value, Visibility) else value)
    if "licence" in changes:
        model.licence = changes["licence"] or None  # "" removes it
    model.updated_at = utcnow()
    audit.record(session, principal, "model.update", "model", f"{org}/{name}",
                 {k: (v.value if isinstance(v, Visibility) else v) for k, v in changes.items() if k != "card"}
                 | ({"card": "changed"} if "card" in changes else {}))
    return model_read(session, model, org, user_id=principal.user_id)


def get_model(session: Session, principal: Principal, org: str, name: str) -> ModelRead:
    model, owner = visible_model(session, principal, org, name)
    return model_read(session, model, owner.name, user_id=principal.user_id)


def list_models(session: Session, principal: Principal, org: str, *, after: str | None, limit: int) -> list[ModelRead]:
    authorize(principal, Permission.org_read, org)
    return [model_read(session, m, org, user_id=principal.user_id)
            for m in repository.models_of_org(session, principal.org_id, after_name=after, limit=limit)]


def delete_model(session: Session, principal: Principal, org: str, name: str) -> None:
    model = own_model(session, principal, org, name, Permission.org_maintain)
    names = repository.aliases(session, model.id)
    if names:
        raise InUse(f"{org}/{name} still has aliases {sorted(names)}; remove them first.",
                    details={"aliases": names})
    session.delete(model)
    audit.record(session, principal, "model.delete", "model", f"{org}/{name}")


def model_read(session: Session, model: Model, org: str, *, user_id: str | None = None,
               aliases: dict[str, int] | None = None, starred: bool | None = None) -> ModelRead:
    """``user_id`` is the caller, for ``starred``; a page of models passes ``aliases`` and ``starred``
    it read for all of them at once."""
    if starred is None:
        starred = bool(repository.starred_by(session, [model.id], user_id))
    return ModelRead(
        id=model.id, org=org, name=model.name, task=Task(model.task), description=model.description,
        tags=model.tags or [], visibility=Visibility(model.visibility), card=model.card,
        forked_from=model.forked_from, archived=model.archived, latest_version=model.latest_version,
        needs_retraining=model.needs_retraining,
        aliases=repository.aliases(session, model.id) if aliases is None else aliases,
        created_at=model.created_at, updated_at=model.updated_at, licence=model.licence or None,
        stars=model.star_count or 0, starred=starred,
    )


# ---- versions ------------------------------------------------------------------------------

def register_version(
    session: Session, principal: Principal, org: str, name: str, *, sha256: str, size_bytes: int,
    fmt: str, meta: VersionMeta, dataset_version_id: str | None = None, job_id: str | None = None,
    validation: dict[str, Any] | None = None, card_facts: dict[str, Any] | None = None,
) -> ModelVersionRead:
    """Adds version N+1. The blob must already be durable in the artifact store.

    ``validation`` is the sandbox verdict when the caller has one (uploads always do); without it
    the version is validated on its first load, before any serving process parses it."""
    model = own_model(session, principal, org, name, Permission.org_write, for_update=True)
    if model.archived:
        raise InUse(f"{org}/{name} is archived; unarchive it to add versions.")
    number = repository.next_version_number(session, model)
    if card_facts is None and (meta.example is not None or meta.limitations):  # an uploader's own card facts
        card_facts = {"example": meta.example.model_dump() if meta.example else None,
                      "limitations": list(meta.limitations)}
    row = ModelVersion(
        model_id=model.id, version=number, blob_sha256=sha256, size_bytes=size_bytes, format=fmt,
        runtime=str(meta.runtime), signature=meta.signature, params=meta.params, metrics=meta.metrics,
        description=meta.description, dataset_version_id=dataset_version_id, job_id=job_id,
        created_by=principal.username, validation=validation, card_facts=card_facts,
    )
    session.add(row)
    model.needs_retraining = False
    model.updated_at = utcnow()
    session.flush()
    audit.record(session, principal, "version.create", "model_version", f"{org}/{name}/{number}",
                 {"sha256": sha256, "size_bytes": size_bytes, "format": fmt, "runtime": str(meta.runtime),
                  "job_id": job_id})
    return version_read(session, row, model, org)


def get_version(session: Session, principal: Principal, org: str, name: str, number: int) -> ModelVersionRead:
    model, owner = visible_model(session, principal, org, name)
    return version_read(session, version_of(session, model, owner.name, number), model, owner.name)


def get_card(session: Session, principal: Principal, org: str, name: str, number: int | None,
             base_url: str) -> ModelCard:
    """The card of a visible model, its facts from ``number`` (default: production, else latest);
    ``base_url`` is where the snippets send their calls (the server as the caller reached it)."""
    model, owner = visible_model(session, principal, org, name)
    read = model_read(session, model, owner.name, user_id=principal.user_id)
    if number is None and model.latest_version == 0:
        return build_card(read, None, base_url)
    row = version_of(session, model, owner.name, number) if number is not None else \
        resolve(session, model, owner.name, version=None, alias=None)
    return build_card(read, version_read(session, row, model, owner.name), base_url)


def list_versions(session: Session, principal: Principal, org: str, name: str, *,
                  before: int | None, limit: int) -> list[ModelVersionRead]:
    model, owner = visible_model(session, principal, org, name)
    return [version_read(session, v, model, owner.name)
            for v in repository.versions(session, model.id, before=before, limit=limit)]


def set_version_archived(session: Session, principal: Principal, org: str, name: str, number: int,
                         archived: bool) -> ModelVersionRead:
    model = own_model(session, principal, org, name, Permission.org_maintain)
    row = version_of(session, model, org, number)
    if archived and repository.aliases_of_version(session, row.id):
        raise InUse(f"Version {number} is behind an alias; move the alias first.")
    row.archived = archived
    audit.record(session, principal, "version.archive" if archived else "version.unarchive", "model_version",
                 f"{org}/{name}/{number}")
    return version_read(session, row, model, org)


def delete_version(session: Session, principal: Principal, org: str, name: str, number: int) -> None:
    model = own_model(session, principal, org, name, Permission.org_maintain)
    row = version_of(session, model, org, number)
    held = repository.aliases_of_version(session, row.id)
    if held:
        raise InUse(f"Version {number} is behind alias(es) {held}; it cannot be deleted.", details={"aliases": held})
    if number in repository.routed_versions(session, model.id):
        raise InUse(f"Version {number} receives traffic through the deployment of {org}/{name}; route it out first "
                    f"(`limelight deployments set` without it, or `limelight deployments delete`).",
                    details={"deployment": f"{org}/{name}"})
    session.delete(row)
    audit.record(session, principal, "version.delete", "model_version", f"{org}/{name}/{number}",
                 {"sha256": row.blob_sha256})


def version_read(session: Session, row: ModelVersion, model: Model, org: str) -> ModelVersionRead:
    return ModelVersionRead(
        model=model.name, org=org, version=row.version, sha256=row.blob_sha256, size_bytes=row.size_bytes,
        format=row.format, runtime=row.runtime, signature=row.signature, params=row.params, metrics=row.metrics,
        description=row.description, dataset_version_id=row.dataset_version_id, job_id=row.job_id,
        archived=row.archived, aliases=sorted(repository.aliases_of_version(session, row.id)),
        created_by=row.created_by, created_at=row.created_at, validation=row.validation,
        card_facts=row.card_facts,
    )


# ---- aliases -------------------------------------------------------------------------------

def set_alias(session: Session, principal: Principal, org: str, name: str, alias: str, number: int,
              *, details: dict[str, Any] | None = None) -> ModelRead:
    """Points ``alias`` at version ``number`` in one row update, so readers see old or new, never none."""
    check_name(alias, "alias")
    model = own_model(session, principal, org, name, Permission.org_maintain, for_update=True)
    row = version_of(session, model, org, number)
    if row.archived:
        raise InUse(f"Version {number} is archived; unarchive it before giving it an alias.")
    current = repository.alias_row(session, model.id, alias)
    previous = None
    if current is None:
        session.add(ModelAlias(model_id=model.id, alias=alias, version_id=row.id))
    else:
        previous = session.get(ModelVersion, current.version_id)
        current.version_id, current.updated_at = row.id, utcnow()
    session.flush()
    audit.record(session, principal, "alias.set", "model_alias", f"{org}/{name}@{alias}",
                 {"version": number, "previous": previous.version if previous else None} | (details or {}))
    return model_read(session, model, org, user_id=principal.user_id)


def delete_alias(session: Session, principal: Principal, org: str, name: str, alias: str) -> ModelRead:
    model = own_model(session, principal, org, name, Permission.org_maintain)
    if repository.delete_alias(session, model.id, alias) == 0:
        raise NotFound(f"Alias {alias!r} of {org}/{name} not found.")
    audit.record(session, principal, "alias.delete", "model_alias", f"{org}/{name}@{alias}")
    return model_read(session, model, org, user_id=principal.user_id)


def promote_if_better(session: Session, principal: Principal, model_name: str, number: int, *, alias: str,
                      metric: str | None, metrics: dict[str, Any]) -> dict[str, Any]:
    """The promotion gate: moves ``alias`` to version ``number`` only if its ``metric`` is at least
    the current alias target's (or either has none); the decision is audited either way."""
    org = principal.org_name
    model = repository.model_by_name(session, principal.org_id, model_name)
    if model is None:
        raise NotFound.model(org, model_name)
    current_number = repository.aliases(session, model.id).get(alias)
    new_value = metrics.get(metric) if metric else None
    current_value = None
    if current_number is not None and metric:
        current = repository.version(session, model.id, current_number)
        current_value = current.metrics.get(metric) if current else None
    passed = current_number is None or current_value is None or (
        new_value is not None and float(new_value) >= float(current_value))
    gate = {"metric": metric, "new": new_value, "current": current_value, "current_version": current_number,
            "new_version": number, "passed": passed}
    if passed:
        set_alias(session, principal, org, model_name, alias, number, details={"gate": gate})
    else:
        audit.record(session, principal, "alias.gate_refused", "model_alias", f"{org}/{model_name}@{alias}",
                     {"gate": gate})
    return gate
