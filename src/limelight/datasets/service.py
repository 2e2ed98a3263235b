"""Datasets: validated, immutable, versioned tables of a declared kind.

An upload is parsed and validated into a normalised Parquet file before anything is recorded; a
rejected upload leaves no row and no blob.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from limelight.artifacts.store import ArtifactStore
from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.datasets import repository
from limelight.db.models import Dataset, DatasetVersion
from limelight.errors import Conflict, InvalidParams, NotFound
from limelight.registry.service import check_name
from limelight.schemas.datasets import ColumnRead, DatasetKind, DatasetRead, DatasetVersionRead


def parse_kind(value: str | None) -> DatasetKind:
    try:
        return DatasetKind(value or "")
    except ValueError as exc:
        raise InvalidParams(f"Unknown dataset kind {value!r}.",
                            details={"field": "kind", "allowed": [k.value for k in DatasetKind]}) from exc


def check_can_upload(session: Session, principal: Principal, org: str, name: str, kind: DatasetKind) -> None:
    authorize(principal, Permission.org_write, org)
    check_name(name, "dataset name")
    existing = repository.by_name(session, principal.org_id, name)
    if existing is not None and existing.kind != kind.value:
        raise Conflict(f"Dataset {org}/{name} holds kind {existing.kind!r}, not {kind.value!r}.",
                       details={"kind": existing.kind})


def add_version(
    session: Session, principal: Principal, org: str, name: str, kind: DatasetKind, *, sha256: str,
    size_bytes: int, source_format: str, source_filename: str, rows: int, columns: list[dict[str, str]],
    profile: dict[str, object], description: str = "",
) -> DatasetVersionRead:
    check_can_upload(session, principal, org, name, kind)
    dataset = repository.by_name(session, principal.org_id, name)
    if dataset is None:
        dataset = Dataset(org_id=principal.org_id, name=name, kind=kind.value, description=description)
        session.add(dataset)
        session.flush()
        audit.record(session, principal, "dataset.create", "dataset", f"{org}/{name}", {"kind": kind.value})
    number = repository.bump_version(session, dataset)
    row = DatasetVersion(dataset_id=dataset.id, version=number, blob_sha256=sha256, size_bytes=size_bytes,
                         source_format=source_format, source_filename=source_filename[:255], rows=rows,
                         columns=columns, profile=profile, created_by=principal.username)
    session.add(row)
    session.flush()
    audit.record(session, principal, "dataset.version.create", "dataset_version", f"{org}/{name}/{number}",
                 {"sha256": sha256, "rows": rows, "size_bytes": size_bytes})
    return version_read(row, dataset, org)


def get(session: Session, principal: Principal, org: str, name: str) -> DatasetRead:
    dataset = _own(session, principal, org, name)
    latest = repository.version(session, dataset.id, dataset.latest_version)
    return dataset_read(dataset, org, latest, repository.version_numbers(session, dataset.id))


def get_version(session: Session, principal: Principal, org: str, name: str, number: int) -> DatasetVersionRead:
    dataset = _own(session, principal, org, name)
    row = repository.version(session, dataset.id, number)
    if row is None:
        raise NotFound(f"Version {number} of dataset {org}/{name} not found.")
    return version_read(row, dataset, org)


def resolve_version(session: Session, principal: Principal, org: str, name: str,
                    number: int | None) -> tuple[DatasetVersion, Dataset]:
    dataset = _own(session, principal, org, name)
    row = repository.version(session, dataset.id, number or dataset.latest_version)
    if row is None:
        raise NotFound(f"Version {number} of dataset {org}/{name} not found.")
    return row, dataset


def download(session: Session, principal: Principal, artifacts: ArtifactStore, org: str, name: str, number: int,
             fmt: str) -> tuple[Path, str]:
    """The stored file of one version and the name to save it as; CSV only when every column has a
    text form."""
    from limelight.datasets.download import has_binary_columns

    row, dataset = resolve_version(session, principal, org, name, number)
    path = normalized_path(artifacts, row.blob_sha256)
    if fmt == "csv" and has_binary_columns(path):
        raise InvalidParams(f"Dataset {org}/{name} ({dataset.kind}) holds binary columns; it downloads as "
                            "Parquet only.", details={"field": "format", "allowed": ["parquet"]})
    return path, f"{org}-{name}-v{row.version}.{fmt}"


def list_datasets(session: Session, principal: Principal, org: str, *, after: str | None, limit: int,
                  kind: str | None = None) -> list[DatasetRead]:
    authorize(principal, Permission.org_read, org)
    return [dataset_read(d, org, None, []) for d in repository.of_org(session, principal.org_id, after=after,
                                                                       limit=limit, kind=kind)]


def delete(session: Session, principal: Principal, org: str, name: str) -> None:
    authorize(principal, Permission.org_maintain, org)
    dataset = _own(session, principal, org, name)
    session.delete(dataset)
    audit.record(session, principal, "dataset.delete", "dataset", f"{org}/{name}",
                 {"versions": dataset.latest_version})


def _own(session: Session, principal: Principal, org: str, name: str) -> Dataset:
    authorize(principal, Permission.org_read, org)
    dataset = repository.by_name(session, principal.org_id, name)
    if dataset is None:
        raise NotFound(f"Dataset {org}/{name} not found.")
    return dataset


def dataset_read(dataset: Dataset, org: str, latest: DatasetVersion | None, versions: list[int]) -> DatasetRead:
    return DatasetRead(id=dataset.id, name=dataset.name, org=org, kind=DatasetKind(dataset.kind),
                       description=dataset.description, latest_version=dataset.latest_version,
                       created_at=dataset.created_at, latest=version_read(latest, dataset, org) if latest else None,
                       versions=versions)


def version_read(row: DatasetVersion, dataset: Dataset, org: str) -> DatasetVersionRead:
    return DatasetVersionRead(
        dataset=dataset.name, org=org, version=row.version, kind=DatasetKind(dataset.kind), rows=row.rows,
        size_bytes=row.size_bytes, sha256=row.blob_sha256, source_format=row.source_format,
        source_filename=row.source_filename, columns=[ColumnRead(**c) for c in row.columns], profile=row.profile,
        created_by=row.created_by, created_at=row.created_at,
    )


def normalized_path(artifacts: ArtifactStore, sha256: str) -> Path:
    return artifacts.local_path(sha256)
