"""All SQL of datasets and their versions."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from limelight.db.models import Dataset, DatasetVersion


def by_name(session: Session, org_id: str, name: str) -> Dataset | None:
    return session.scalars(select(Dataset).where(Dataset.org_id == org_id, Dataset.name == name)).first()


def of_org(session: Session, org_id: str, *, after: str | None, limit: int, kind: str | None = None) -> list[Dataset]:
    query = select(Dataset).where(Dataset.org_id == org_id)
    if kind:
        query = query.where(Dataset.kind == kind)
    if after is not None:
        query = query.where(Dataset.name > after)
    return list(session.scalars(query.order_by(Dataset.name).limit(limit)).all())


def version(session: Session, dataset_id: str, number: int) -> DatasetVersion | None:
    return session.scalars(
        select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id, DatasetVersion.version == number)
    ).first()


def version_by_id(session: Session, version_id: str) -> tuple[DatasetVersion, Dataset] | None:
    row = session.execute(
        select(DatasetVersion, Dataset).join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id == version_id)
    ).first()
    return None if row is None else (row[0], row[1])


def version_numbers(session: Session, dataset_id: str) -> list[int]:
    return list(session.scalars(
        select(DatasetVersion.version).where(DatasetVersion.dataset_id == dataset_id).order_by(DatasetVersion.version)
    ).all())


def bump_version(session: Session, dataset: Dataset) -> int:
    session.execute(update(Dataset).where(Dataset.id == dataset.id).values(latest_version=Dataset.latest_version + 1))
    session.refresh(dataset, ["latest_version"])
    return dataset.latest_version


def all_blob_refs(session: Session) -> set[str]:
    return set(session.scalars(select(DatasetVersion.blob_sha256)).all())
