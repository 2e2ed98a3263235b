"""Datasets (streamed uploads, versions) and real-time events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from limelight.client._base import Call, as_model, as_none, as_page, query, segment
from limelight.client._resource import AsyncResource, SyncResource
from limelight.client._upload import ProgressReader, SourceFile, UploadProgress, multipart_file, upload_source
from limelight.schemas.common import Page
from limelight.schemas.datasets import DatasetKind, DatasetRead, DatasetVersionRead
from limelight.schemas.events import EventBatchResult, EventIn, ForgetResult

API = "/api/v1"
# The server validates and profiles the whole file before answering, so allow a long read.
UPLOAD_TIMEOUT = httpx.Timeout(60.0, read=1800.0, write=1800.0)


def _datasets(org: str) -> str:
    return f"{API}/orgs/{segment(org)}/datasets"


def _upload(org: str, reader: ProgressReader, filename: str, name: str, kind: DatasetKind | str,
            description: str | None, target: str | None, skip_invalid: bool = False,
            labels: str | Path | None = None) -> Call[DatasetVersionRead]:
    fields = {"name": name, "kind": str(kind)}
    if description is not None:
        fields["description"] = description
    if target is not None:
        fields["target"] = target
    if skip_invalid:
        fields["skip_invalid"] = "true"
    files: dict[str, Any] = {"file": multipart_file(reader, filename)}
    if labels is not None:
        files["labels"] = ("labels.csv", Path(labels).read_bytes())
    return Call("POST", _datasets(org), as_model(DatasetVersionRead), data=fields, files=files,
                timeout=UPLOAD_TIMEOUT)


def _list(org: str, kind: DatasetKind | str | None, limit: int | None, cursor: str | None) -> Call[Page[DatasetRead]]:
    params = query(kind=str(kind) if kind else None, limit=limit, cursor=cursor)
    return Call("GET", _datasets(org), as_page(DatasetRead), params=params)


def _get(org: str, name: str) -> Call[DatasetRead]:
    return Call("GET", f"{_datasets(org)}/{segment(name)}", as_model(DatasetRead))


def _get_version(org: str, name: str, version: int) -> Call[DatasetVersionRead]:
    return Call("GET", f"{_datasets(org)}/{segment(name)}/versions/{int(version)}", as_model(DatasetVersionRead))


def _download(org: str, name: str, version: int, file_format: str) -> Call[None]:
    if file_format not in ("parquet", "csv"):
        raise ValueError(f"file_format is parquet or csv, not {file_format!r}")
    return Call("GET", f"{_datasets(org)}/{segment(name)}/versions/{int(version)}/download", as_none,
                params={"format": file_format}, timeout=UPLOAD_TIMEOUT)


def _part_of(dest: Path) -> Path:
    """Written beside ``dest`` and renamed onto it when complete: a broken download leaves no file."""
    return dest.with_name(dest.name + ".part")


def _delete(org: str, name: str) -> Call[None]:
    return Call("DELETE", f"{_datasets(org)}/{segment(name)}", as_none)


def _send_events(org: str, events: Iterable[EventIn | Mapping[str, Any]], dataset: str | None
                 ) -> Call[EventBatchResult]:
    payload = [e.model_dump(mode="json", exclude_none=True) if isinstance(e, EventIn) else dict(e) for e in events]
    body: dict[str, Any] = {"events": payload} | ({"dataset": dataset} if dataset is not None else {})
    return Call("POST", f"{API}/orgs/{segment(org)}/events", as_model(EventBatchResult), json=body)


def _forget(org: str, user_id: str) -> Call[ForgetResult]:
    return Call("DELETE", f"{API}/orgs/{segment(org)}/end-users/{segment(user_id)}", as_model(ForgetResult))


# ---- sync ----------------------------------------------------------------------------------

class Datasets(SyncResource):
    def upload(self, org: str, file: SourceFile, name: str, kind: DatasetKind | str, *,
               description: str | None = None, target: str | None = None, skip_invalid: bool = False,
               labels: str | Path | None = None, on_progress: UploadProgress | None = None) -> DatasetVersionRead:
        """Upload a file (path or binary file object) as a new version of dataset ``name``.

        The file is streamed, never read whole; ``on_progress(bytes_sent, total_bytes)`` is called
        per chunk. ``target`` names the label column of a ``tabular`` file (stored as ``target``).
        A rejected file raises `DatasetInvalid` and leaves nothing behind.
        """
        with upload_source(file, on_progress) as (reader, filename):
            return self._run(_upload(org, reader, filename, name, kind, description, target, skip_invalid, labels))

    def list(self, org: str, *, kind: DatasetKind | str | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page[DatasetRead]:
        return self._run(_list(org, kind, limit, cursor))

    def iter(self, org: str, *, kind: DatasetKind | str | None = None, limit: int | None = None) -> Iterator[DatasetRead]:
        return self._iterate(lambda cursor: _list(org, kind, limit, cursor))

    def get(self, org: str, name: str) -> DatasetRead:
        return self._run(_get(org, name))

    def get_version(self, org: str, name: str, version: int) -> DatasetVersionRead:
        return self._run(_get_version(org, name, version))

    def download(self, org: str, name: str, version: int, dest: str | Path, *,
                 file_format: str = "parquet") -> Path:
        """Save one version's rows to ``dest`` as Parquet (the stored file) or CSV; streamed, and
        written in place only when complete."""
        dest, part = Path(dest), _part_of(Path(dest))
        try:
            with part.open("wb") as out:
                for chunk in self._client._stream_bytes(_download(org, name, version, file_format)):
                    out.write(chunk)
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)
        return dest

    def delete(self, org: str, name: str) -> None:
        self._run(_delete(org, name))


class Events(SyncResource):
    def send(self, org: str, events: Iterable[EventIn | Mapping[str, Any]], *,
             dataset: str | None = None) -> EventBatchResult:
        """Store a batch of behaviour events for the interactions dataset ``dataset`` (needed once the org
        has several); resending an ``event_id`` counts as a duplicate, not an error."""
        return self._run(_send_events(org, events, dataset))

    def forget(self, org: str, user_id: str) -> ForgetResult:
        """Delete one end user's events and dataset rows everywhere in ``org``."""
        return self._run(_forget(org, user_id))


# ---- async ---------------------------------------------------------------------------------

class AsyncDatasets(AsyncResource):
    async def upload(self, org: str, file: SourceFile, name: str, kind: DatasetKind | str, *,
                     description: str | None = None, target: str | None = None, skip_invalid: bool = False,
                     labels: str | Path | None = None, on_progress: UploadProgress | None = None) -> DatasetVersionRead:
        """As `Datasets.upload`; the file is read in 64 KiB chunks on the event loop."""
        with upload_source(file, on_progress) as (reader, filename):
            return await self._run(_upload(org, reader, filename, name, kind, description, target, skip_invalid, labels))

    async def list(self, org: str, *, kind: DatasetKind | str | None = None, limit: int | None = None,
                   cursor: str | None = None) -> Page[DatasetRead]:
        return await self._run(_list(org, kind, limit, cursor))

    def iter(self, org: str, *, kind: DatasetKind | str | None = None,
             limit: int | None = None) -> AsyncIterator[DatasetRead]:
        return self._iterate(lambda cursor: _list(org, kind, limit, cursor))

    async def get(self, org: str, name: str) -> DatasetRead:
        return await self._run(_get(org, name))

    async def get_version(self, org: str, name: str, version: int) -> DatasetVersionRead:
        return await self._run(_get_version(org, name, version))

    async def download(self, org: str, name: str, version: int, dest: str | Path, *,
                       file_format: str = "parquet") -> Path:
        """As `Datasets.download`."""
        dest, part = Path(dest), _part_of(Path(dest))
        try:
            with part.open("wb") as out:
                async for chunk in self._client._stream_bytes(_download(org, name, version, file_format)):
                    out.write(chunk)
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)
        return dest

    async def delete(self, org: str, name: str) -> None:
        await self._run(_delete(org, name))


class AsyncEvents(AsyncResource):
    async def send(self, org: str, events: Iterable[EventIn | Mapping[str, Any]], *,
                   dataset: str | None = None) -> EventBatchResult:
        return await self._run(_send_events(org, events, dataset))

    async def forget(self, org: str, user_id: str) -> ForgetResult:
        return await self._run(_forget(org, user_id))
