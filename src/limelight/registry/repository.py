"""All SQL of models, versions, aliases, stars and shares (the marketplace's search is in marketplace/repository.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from limelight.db.base import utcnow
from limelight.db.models import Deployment, Model, ModelAlias, ModelShare, ModelStar, ModelVersion, Org


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


# ---- stars (the marketplace's; a star is one user's mark on one model) ------------------------

def add_star(session: Session, model_id: str, user_id: str) -> bool:
    """Stars ``model_id`` for ``user_id``; False when it was starred already (a concurrent star too)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(ModelStar).values(model_id=model_id, user_id=user_id, created_at=utcnow())
    statement = statement.on_conflict_do_nothing(index_elements=["model_id", "user_id"])
    return session.execute(statement.returning(ModelStar.model_id)).first() is not None


def remove_star(session: Session, model_id: str, user_id: str) -> bool:
    result = session.execute(delete(ModelStar).where(ModelStar.model_id == model_id, ModelStar.user_id == user_id))
    return int(getattr(result, "rowcount", 0)) > 0


def starred_by(session: Session, model_ids: Sequence[str], user_id: str | None) -> set[str]:
    """Which of ``model_ids`` ``user_id`` starred."""
    if not model_ids or not user_id:
        return set()
    return set(session.scalars(select(ModelStar.model_id).where(ModelStar.user_id == user_id,
                                                                ModelStar.model_id.in_(list(model_ids)))).all())


def aliases_of(session: Session, model_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """``aliases`` of many models in one query (a marketplace page)."""
    if not model_ids:
        return {}
    rows = session.execute(
        select(ModelAlias.model_id, ModelAlias.alias, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id.in_(list(model_ids)))
    )
    found: dict[str, dict[str, int]] = {}
    for model_id, alias, number in rows:
        found.setdefault(str(model_id), {})[str(alias)] = int(number)
    return found


def all_blob_refs(session: Session) -> set[str]:
    return set(session.scalars(select(ModelVersion.blob_sha256)).all())


def share_access(session: Session, model_id: str, org_id: str) -> str | None:
    """The access ``org_id`` was granted on the model, or None."""
    return session.scalar(select(ModelShare.access).where(ModelShare.model_id == model_id, ModelShare.org_id == org_id))


def share(session: Session, model_id: str, org_id: str) -> ModelShare | None:
    return session.scalars(select(ModelShare).where(ModelShare.model_id == model_id, ModelShare.org_id == org_id)).first()


def shares_of_model(session: Session, model_id: str) -> list[tuple[ModelShare, str]]:
    """Every share of a model with the grantee org's name, by that name."""
    rows = session.execute(select(ModelShare, Org.name).join(Org, Org.id == ModelShare.org_id)
                           .where(ModelShare.model_id == model_id).order_by(Org.name)).all()
    return [(row, name) for row, name in rows]


def shared_with_org(session: Session, org_id: str) -> list[tuple[ModelShare, Model, str]]:
    """Every model shared with ``org_id``, with its owner org's name, by owner and name."""
    rows = session.execute(
        select(ModelShare, Model, Org.name).join(Model, Model.id == ModelShare.model_id)
        .join(Org, Org.id == Model.org_id).where(ModelShare.org_id == org_id).order_by(Org.name, Model.name)
    ).all()
    return [(row, model, owner) for row, model, owner in rows]


def grantee_org_ids(session: Session, model_id: str) -> frozenset[str]:
    """The orgs that may call the model through a share (any access)."""
    return frozenset(session.scalars(select(ModelShare.org_id).where(ModelShare.model_id == model_id)))
