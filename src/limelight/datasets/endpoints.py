"""HTTP routes of datasets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from limelight.datasets import service
from limelight.datasets.download import csv_chunks
from limelight.datasets.upload import check_can_start, store_upload
from limelight.pagination import Cursor, Limit, decode_cursor, page_of
from limelight.schemas.common import NAME_PATTERN, ErrorBody, Name, Page
from limelight.schemas.datasets import DatasetKind, DatasetRead, DatasetVersionRead
from limelight.server.deps import Maintainer, Reader, SessionDep, StateDep, VersionPath, Writer
from limelight.server.uploads import receive_upload

router = APIRouter(prefix="/api/v1/orgs/{org}/datasets", tags=["datasets"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
DownloadFormat = Annotated[Literal["parquet", "csv"], Query(alias="format", description="parquet or csv")]

_UPLOAD_BODY = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "name", "kind"],
    "properties": {"file": {"type": "string", "format": "binary"}, "name": {"type": "string", "pattern": NAME_PATTERN},
                   "kind": {"type": "string", "enum": [k.value for k in DatasetKind]},
                   "description": {"type": "string"},
                   "target": {"type": "string", "description": "label column of a tabular dataset"},
                   "skip_invalid": {"type": "boolean", "description": "images: keep the valid pictures when some "
                                                                    "are not (default: refuse the upload)"},
                   "labels": {"type": "string", "format": "binary",
                              "description": "images: a path,label CSV naming every picture of the archive "
                                             "(instead of a labels.csv inside it; at most 256 KiB)"}}}}}}}


@router.post("", response_model=DatasetVersionRead, status_code=201, openapi_extra=_UPLOAD_BODY,
             responses={409: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody},
                        422: {"model": ErrorBody}})
async def upload_dataset(org: Name, request: Request, principal: Writer, state: StateDep) -> DatasetVersionRead:
    await run_in_threadpool(check_can_start, state, principal, org)  # write access, room in the storage quota
    async with receive_upload(request, state.artifacts, max_file_bytes=state.settings.limits.max_dataset_bytes) as up:
        return await run_in_threadpool(store_upload, state, principal, org, up)


@router.get("", response_model=Page[DatasetRead])
def list_datasets(org: Name, principal: Reader, session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
                  kind: DatasetKind | None = None) -> Page[DatasetRead]:
    after = decode_cursor(cursor, 1)
    items = service.list_datasets(session, principal, org, after=str(after[0]) if after else None, limit=limit,
                                  kind=kind.value if kind else None)
    return page_of(items, limit, lambda d: (d.name,))


@router.get("/{name}", response_model=DatasetRead)
def get_dataset(org: Name, name: Name, principal: Reader, session: SessionDep) -> DatasetRead:
    return service.get(session, principal, org, name)


@router.get("/{name}/versions/{version}", response_model=DatasetVersionRead)
def get_dataset_version(org: Name, name: Name, version: VersionPath, principal: Reader, session: SessionDep) -> DatasetVersionRead:
    return service.get_version(session, principal, org, name, version)


@router.get("/{name}/versions/{version}/download", response_class=Response,
            responses={200: {"content": {PARQUET_MEDIA_TYPE: {}, "text/csv": {}},
                             "description": "the version's rows, as normalised at upload"},
                       422: {"model": ErrorBody}})
def download_dataset_version(org: Name, name: Name, version: VersionPath, principal: Reader, session: SessionDep,
                             state: StateDep, file_format: DownloadFormat = "parquet") -> Response:
    """The version's rows as Parquet (the stored file) or CSV (nested values as JSON text)."""
    path, filename = service.download(session, principal, state.artifacts, org, name, version, file_format)
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if file_format == "csv":
        return StreamingResponse(csv_chunks(path), media_type="text/csv; charset=utf-8", headers=disposition)
    return FileResponse(path, media_type=PARQUET_MEDIA_TYPE, headers=disposition)


@router.delete("/{name}", status_code=204)
def delete_dataset(org: Name, name: Name, principal: Maintainer, session: SessionDep) -> Response:
    service.delete(session, principal, org, name)
    return Response(status_code=204)
