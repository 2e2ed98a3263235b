"""HTTP routes of the model registry."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from limelight.auth.principal import Permission, Principal
from limelight.errors import ValidationFailed
from limelight.metering import quotas
from limelight.pagination import Cursor, Limit, decode_cursor, page_of
from limelight.registry import service
from limelight.runtimes.sandbox import Verdict
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.registry import (
    AliasSet,
    ModelCard,
    ModelCreate,
    ModelRead,
    ModelUpdate,
    ModelVersionRead,
    VersionMeta,
)
from limelight.server.deps import Maintainer, Reader, SessionDep, StateDep, VersionPath, Writer
from limelight.server.state import AppState
from limelight.server.uploads import receive_upload

router = APIRouter(prefix="/api/v1/orgs/{org}/models", tags=["models"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.post("", response_model=ModelRead, status_code=201, responses={409: {"model": ErrorBody}})
def create_model(org: Name, body: ModelCreate, principal: Writer, session: SessionDep) -> ModelRead:
    return service.create_model(session, principal, org, body)


@router.get("", response_model=Page[ModelRead])
def list_models(org: Name, principal: Reader, session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> Page[ModelRead]:
    after = decode_cursor(cursor, 1)
    items = service.list_models(session, principal, org, after=str(after[0]) if after else None, limit=limit)
    return page_of(items, limit, lambda m: (m.name,))


@router.get("/{name}", response_model=ModelRead)
def get_model(org: Name, name: Name, principal: Reader, session: SessionDep) -> ModelRead:
    return service.get_model(session, principal, org, name)


@router.patch("/{name}", response_model=ModelRead)
def update_model(org: Name, name: Name, body: ModelUpdate, principal: Writer, session: SessionDep) -> ModelRead:
    return service.update_model(session, principal, org, name, body)


@router.delete("/{name}", status_code=204, responses={409: {"model": ErrorBody}})
def delete_model(org: Name, name: Name, principal: Maintainer, session: SessionDep) -> Response:
    service.delete_model(session, principal, org, name)
    return Response(status_code=204)


@router.get("/{name}/versions", response_model=Page[ModelVersionRead])
def list_versions(org: Name, name: Name, principal: Reader, session: SessionDep, limit: Limit = 50,
                  cursor: Cursor = None) -> Page[ModelVersionRead]:
    before = decode_cursor(cursor, 1)
    items = service.list_versions(session, principal, org, name, before=int(str(before[0])) if before else None,
                                  limit=limit)
    return page_of(items, limit, lambda v: (v.version,))


@router.post("/{name}/versions", response_model=ModelVersionRead, status_code=201,
             responses={400: {"model": ErrorBody}, 413: {"model": ErrorBody}, 415: {"model": ErrorBody},
                        422: {"model": ErrorBody, "description": "invalid meta, or the artifact failed validation "
                                                                 "in the sandbox (`artifact_invalid`)"}},
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file", "meta"],
                 "properties": {"file": {"type": "string", "format": "binary"},
                                "meta": VersionMeta.model_json_schema(ref_template="#/components/schemas/{model}")}},
                 "encoding": {"meta": {"contentType": "application/json"}}}}}})
async def upload_version(org: Name, name: Name, request: Request, principal: Writer, state: StateDep) -> ModelVersionRead:
    await run_in_threadpool(_check_writable, state, principal, org, name)
    async with receive_upload(request, state.artifacts, max_file_bytes=state.settings.limits.max_artifact_bytes) as up:
        meta = _parse_meta(up.fields.get("meta"))
        assert up.staged is not None
        # Refused here, the staged file is dropped on exit: nothing is stored or registered.
        await run_in_threadpool(_check_room, state, principal, up.size_bytes)
        verdict = await run_in_threadpool(_validate, state, up.staged.path, meta, org)
        ref = await run_in_threadpool(up.staged.commit)
        return await run_in_threadpool(_register, state, principal, org, name, ref.sha256, ref.size_bytes,
                                       verdict, meta)


def _check_writable(state: AppState, principal: Principal, org: str, name: str) -> None:
    with state.db.transaction(write=False) as session:
        service.own_model(session, principal, org, name, Permission.org_write)
        quotas.check_storage(session, principal.org_id, adding_bytes=1)  # an org already full: before the body


def _check_room(state: AppState, principal: Principal, size_bytes: int) -> None:
    with state.db.transaction(write=False) as session:
        quotas.check_storage(session, principal.org_id, adding_bytes=size_bytes)


def _parse_meta(raw: str | None) -> VersionMeta:
    if raw is None:
        raise ValidationFailed("The multipart field 'meta' (VersionMeta JSON) is required.", details={"field": "meta"})
    try:
        return VersionMeta.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "meta." + ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"Invalid {field}: {first['msg']}", details={"field": field}) from exc


def _validate(state: AppState, path: Path, meta: VersionMeta, org: str) -> Verdict:
    """The artifact loaded and tried with its runtime in the sandbox process (derived files it
    writes, such as an ONNX export, go to a scratch folder removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="validate-") as scratch:
        return state.validator.validate(path, runtime=meta.runtime.value, params=meta.params,
                                        declared_format=meta.format.value if meta.format else None,
                                        cache_dir=Path(scratch), org=org)


def _register(state: AppState, principal: Principal, org: str, name: str, sha256: str, size: int,
              verdict: Verdict, meta: VersionMeta) -> ModelVersionRead:
    if not meta.signature:  # none given: keep the one the runtime reported in the sandbox
        meta = meta.model_copy(update={"signature": verdict.signature})
    with state.db.transaction() as session:
        return service.register_version(session, principal, org, name, sha256=sha256, size_bytes=size,
                                        fmt=verdict.format, meta=meta,
                                        validation=verdict.record(meta.runtime.value))


@router.get("/{name}/card", response_model=ModelCard)
def get_card(org: Name, name: Name, request: Request, principal: Reader, session: SessionDep,
             version: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None) -> ModelCard:
    """The owners' prose plus facts generated from the version's training run, with runnable snippets."""
    return service.get_card(session, principal, org, name, version, str(request.base_url))


@router.get("/{name}/versions/{version}", response_model=ModelVersionRead)
def get_version(org: Name, name: Name, version: VersionPath, principal: Reader, session: SessionDep) -> ModelVersionRead:
    return service.get_version(session, principal, org, name, version)


@router.post("/{name}/versions/{version}/archive", response_model=ModelVersionRead, responses={409: {"model": ErrorBody}})
def archive_version(org: Name, name: Name, version: VersionPath, principal: Maintainer, session: SessionDep,
                    archived: Annotated[bool, Query()] = True) -> ModelVersionRead:
    return service.set_version_archived(session, principal, org, name, version, archived)


@router.delete("/{name}/versions/{version}", status_code=204, responses={409: {"model": ErrorBody}})
def delete_version(org: Name, name: Name, version: VersionPath, principal: Maintainer, session: SessionDep) -> Response:
    service.delete_version(session, principal, org, name, version)
    return Response(status_code=204)


@router.put("/{name}/aliases/{alias}", response_model=ModelRead)
def set_alias(org: Name, name: Name, alias: Name, body: AliasSet, principal: Maintainer, session: SessionDep) -> ModelRead:
    return service.set_alias(session, principal, org, name, alias, body.version)


@router.delete("/{name}/aliases/{alias}", response_model=ModelRead)
def delete_alias(org: Name, name: Name, alias: Name, principal: Maintainer, session: SessionDep) -> ModelRead:
    return service.delete_alias(session, principal, org, name, alias)
