"""HTTP routes of the marketplace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from limelight.marketplace import service
from limelight.pagination import Cursor, Limit, decode_cursor, page_of
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.registry import ForkRequest, ModelRead, Task
from limelight.server.deps import Reader, SessionDep, Writer

router = APIRouter(prefix="/api/v1", tags=["marketplace"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("/models", response_model=Page[ModelRead])
def search_models(
    principal: Reader, session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
    q: Annotated[str | None, Query(max_length=200, description="text in name, description or card")] = None,
    task: Task | None = None, tag: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ModelRead]:
    after = decode_cursor(cursor, 2)
    items = service.search(session, principal, q=q, task=task.value if task else None, tag=tag,
                           after=(str(after[0]), str(after[1])) if after else None, limit=limit)
    return page_of(items, limit, lambda m: (m.org, m.name))


@router.post("/orgs/{org}/models/{name}/fork", response_model=ModelRead, status_code=201,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}})
def fork_model(org: Name, name: Name, body: ForkRequest, principal: Writer, session: SessionDep) -> ModelRead:
    return service.fork(session, principal, org, name, body)
