"""HTTP routes of the marketplace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from limelight.errors import InvalidParams
from limelight.marketplace import service
from limelight.pagination import Cursor, Limit
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.registry import (
    Licence,
    ModelRead,
    ModelSearchPage,
    RuntimeName,
    SearchSort,
    Task,
)
from limelight.server.deps import Reader, SessionDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["marketplace"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})

SEARCH_PARAMS = frozenset({"q", "task", "runtime", "tag", "org", "licence", "metric", "sort", "limit", "cursor"})


def known_params_only(request: Request) -> None:
    """A misspelt filter would silently widen the results: every unknown parameter is a 400."""
    unknown = sorted(set(request.query_params) - SEARCH_PARAMS)
    if unknown:
        raise InvalidParams(f"Unknown query parameter {unknown[0]!r}; the search takes {', '.join(sorted(SEARCH_PARAMS))}.",
                            details={"param": unknown[0], "unknown": unknown[:10]})


@router.get("/models", response_model=ModelSearchPage,
            responses={400: {"model": ErrorBody, "description": "invalid_query, invalid_params or a bad cursor"}})
def search_models(
    request: Request, principal: Reader, session: SessionDep, state: StateDep, limit: Limit = 50,
    cursor: Cursor = None,
    q: Annotated[str | None, Query(description=(
        'words, "quoted phrases" and -exclusions, all required, matched in name, description, card and tags '
        "(at most 500 characters, 16 terms)"))] = None,
    task: Task | None = None,
    runtime: Annotated[RuntimeName | None, Query(description="runtime of the production (else latest) version")] = None,
    tag: Annotated[list[Name] | None, Query(max_length=16, description="repeat for several: all are required")] = None,
    org: Name | None = None,
    licence: Licence | None = None,
    metric: Annotated[list[str] | None, Query(max_length=8, description=(
        "metric range of the production (else latest) version, e.g. ndcg@10>=0.3 (>=, <=, >, <); repeatable"))] = None,
    sort: Annotated[SearchSort | None, Query(description="default: relevance with q, newest without")] = None,
) -> ModelSearchPage:
    known_params_only(request)
    params = service.SearchParams(q=q, task=task.value if task else None, runtime=str(runtime) if runtime else None,
                                  tags=tuple(tag or ()), org=org, licence=licence, metrics=tuple(metric or ()), sort=sort)
    return service.search_page(session, principal, params, cursor=cursor, limit=limit, cache=state.search_cache)


@router.put("/orgs/{org}/models/{name}/star", response_model=ModelRead, responses={404: {"model": ErrorBody}})
def star_model(org: Name, name: Name, principal: Reader, session: SessionDep) -> ModelRead:
    """Star a model you can see (idempotent); ``stars`` and ``starred`` in the answer include it."""
    return service.star(session, principal, org, name)


@router.delete("/orgs/{org}/models/{name}/star", response_model=ModelRead, responses={404: {"model": ErrorBody}})
def unstar_model(org: Name, name: Name, principal: Reader, session: SessionDep) -> ModelRead:
    """Remove your star (idempotent)."""
    return service.unstar(session, principal, org, name)


@router.get("/orgs/{org}/models/{name}/forks", response_model=Page[ModelRead], responses={404: {"model": ErrorBody}})
def list_forks(org: Name, name: Name, principal: Reader, session: SessionDep) -> Page[ModelRead]:
    """The forks of a model you can see (newest first; other orgs' private forks stay unseen)."""
    return Page(items=service.forks(session, principal, org, name))
