"""Turning a received upload into a dataset version: validate, normalise, store, record."""

from __future__ import annotations

from limelight.auth.principal import Permission, Principal, authorize
from limelight.datasets import service
from limelight.datasets.ingest.images import ImageArchiveOptions, ingest_images
from limelight.metering import quotas
from limelight.schemas.datasets import DatasetKind, DatasetVersionRead
from limelight.server.state import AppState
from limelight.server.uploads import Upload


def check_can_start(state: AppState, principal: Principal, org: str) -> None:
    """Before the body is read: the caller may write in ``org``, and its storage quota has room."""
    authorize(principal, Permission.org_write, org)
    with state.db.transaction(write=False) as session:
        quotas.check_storage(session, principal.org_id, adding_bytes=1)


def store_upload(state: AppState, principal: Principal, org: str, upload: Upload) -> DatasetVersionRead:
    from limelight.datasets.ingest import IngestOptions, ingest

    name = upload.fields.get("name", "")
    kind = service.parse_kind(upload.fields.get("kind"))
    with state.db.transaction(write=False) as session:
        service.check_can_upload(session, principal, org, name, kind)
    assert upload.staged is not None
    with state.artifacts.stage(suffix=".parquet") as normalized:
        if kind is DatasetKind.images:  # pictures are decoded in a confined child, never here
            result = ingest_images(upload.staged.path, filename=upload.filename, dest=normalized.path,
                                   options=ImageArchiveOptions.from_settings(
                                       state.settings.image_datasets,
                                       skip_invalid=_flag(upload.fields.get("skip_invalid"))),
                                   labels_csv=upload.fields.get("labels"))
        else:
            options = IngestOptions(target=upload.fields.get("target") or None)
            result = ingest(upload.staged.path, kind=kind.value, filename=upload.filename,
                            content_type=upload.content_type, dest=normalized.path, options=options)
        with state.db.transaction(write=False) as session:  # what would be stored: the normalised file
            quotas.check_storage(session, principal.org_id, adding_bytes=normalized.path.stat().st_size)
        ref = normalized.commit()
    with state.db.transaction() as session:
        return service.add_version(
            session, principal, org, name, kind, sha256=ref.sha256, size_bytes=ref.size_bytes,
            source_format=result.format, source_filename=upload.filename or "", rows=result.rows,
            columns=[{"name": c.name, "type": c.type} for c in result.columns], profile=result.profile,
            description=upload.fields.get("description", "")[:2000],
        )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
