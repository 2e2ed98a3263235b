"""All SQL of models, versions and aliases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from limelight.db.models import Deployment, Model, ModelAlias, ModelVersion, Org


def model_by_name(session: Session, org_id: str, name: str, *, for_update: bool = False) -> Model | None:
    query = select(Model).where(Model.org_id == org_id, Model.name == name)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def model_with_org(session: Session, org_name: str, name: str) -> tuple[Model, Org] | None:
    row = session.execute(
        select(Model, Org).join(Org, Org.id == Model.org_id).where(Org.name == org_name, Model.name == name)
    ).first()
    return None if row is None else (row[0], row[1])


def version(session: Session, model_id: str, number: int) -> ModelVersion | None:
    return session.scalars(
        select(ModelVersion).where(ModelVersion.model_id == model_id, ModelVersion.version == number)
    ).first()


def set_validation(session: Session, version_id: str, record: dict[str, Any]) -> None:
    """Keep a sandbox verdict on a version (the one mutable field of an immutable version)."""
    session.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(validation=record))


def versions(session: Session, model_id: str, *, before: int | None, limit: int) -> list[ModelVersion]:
    query = select(ModelVersion).where(ModelVersion.model_id == model_id)
    if before is not None:
        query = query.where(ModelVersion.version < before)
    return list(session.scalars(query.order_by(ModelVersion.version.desc()).limit(limit)).all())


def version_runtimes(session: Session, model_id: str) -> dict[int, str]:
    """Every version number of a model with the runtime that serves it."""
    rows = session.execute(select(ModelVersion.version, ModelVersion.runtime).where(ModelVersion.model_id == model_id))
    return {int(number): str(runtime) for number, runtime in rows}


def aliases(session: Session, model_id: str) -> dict[str, int]:
    rows = session.execute(
        select(ModelAlias.alias, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id == model_id)
    ).all()
    return {alias: number for alias, number in rows}


def alias_row(session: Session, model_id: str, alias: str) -> ModelAlias | None:
    return session.get(ModelAlias, (model_id, alias))


def delete_alias(session: Session, model_id: str, alias: str) -> int:
    result = session.execute(
        delete(ModelAlias).where(ModelAlias.model_id == model_id, ModelAlias.alias == alias)
    )
    return int(getattr(result, "rowcount", 0))


def aliases_of_version(session: Session, version_id: str) -> list[str]:
    return list(session.scalars(select(ModelAlias.alias).where(ModelAlias.version_id == version_id)).all())


def routed_versions(session: Session, model_id: str) -> set[int]:
    """The version numbers the model's deployment routes or shadows traffic to."""
    row = session.get(Deployment, model_id)
    if row is None:
        return set()
    return {int(r["version"]) for r in row.routes} | ({int(row.shadow["version"])} if row.shadow else set())


def next_version_number(session: Session, model: Model) -> int:
    # Lock the model row so two concurrent registrations get consecutive numbers (PostgreSQL);
    # SQLite write transactions are serial already.
    session.execute(update(Model).where(Model.id == model.id).values(latest_version=Model.latest_version + 1))
    session.refresh(model, ["latest_version"])
    return model.latest_version


def models_of_org(session: Session, org_id: str, *, after_name: str | None, limit: int) -> list[Model]:
    query = select(Model).where(Model.org_id == org_id)
    if after_name is not None:
        query = query.where(Model.name > after_name)
    return list(session.scalars(query.order_by(Model.name).limit(limit)).all())


def search(
    session: Session, *, org_id: str, q: str | None, task: str | None, tag: str | None,
    after: tuple[str, str] | None, limit: int,
) -> list[tuple[Model, Org]]:
    query = (select(Model, Org).join(Org, Org.id == Model.org_id)
             .where(or_(Model.org_id == org_id, Model.visibility == "public"), Model.archived.is_(False)))
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Model.name).like(pattern), func.lower(Model.description).like(pattern),
                                func.lower(Model.card).like(pattern)))
    if task:
        query = query.where(Model.task == task)
    if after is not None:
        query = query.where((Org.name > after[0]) | ((Org.name == after[0]) & (Model.name > after[1])))
    rows = session.execute(query.order_by(Org.name, Model.name).limit(limit * 4 if tag else limit)).all()
    result = [(m, o) for m, o in rows if not tag or tag in (m.tags or [])]
    return result[:limit]


def all_blob_refs(session: Session) -> set[str]:
    return set(session.scalars(select(ModelVersion.blob_sha256)).all())
