"""HTTP routes of jobs, including the server-sent-events log stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from limelight.auth.principal import Principal
from limelight.jobs import forking, retrain, service
from limelight.pagination import Cursor, Limit, decode_cursor, page_of
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.jobs import TERMINAL_STATES, JobCreate, JobRead, JobState, RecipeRead
from limelight.schemas.registry import ForkRead, ForkRequest, RetrainPolicy, RetrainPolicyRead
from limelight.server.deps import Maintainer, Reader, SessionDep, StateDep, Writer
from limelight.server.state import AppState

router = APIRouter(prefix="/api/v1", tags=["jobs"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})

SSE_POLL_S = 0.3
SSE_KEEPALIVE_S = 15


@router.get("/recipes", response_model=list[RecipeRead])
def list_recipes(principal: Reader) -> list[RecipeRead]:
    return service.recipes()


@router.post("/orgs/{org}/jobs", response_model=JobRead, status_code=201, responses={400: {"model": ErrorBody}})
def submit_job(org: Name, body: JobCreate, principal: Writer, session: SessionDep) -> JobRead:
    return service.submit(session, principal, org, body)


@router.post("/orgs/{org}/models/{name}/fork", response_model=ForkRead, status_code=201, tags=["marketplace"],
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def fork_model(org: Name, name: Name, body: ForkRequest, principal: Writer, session: SessionDep) -> ForkRead:
    """Copy a model you can see into your org (its production version becomes version 1); with ``retrain``,
    also train it again on your own dataset with the same recipe and parameters (``retrain_job``)."""
    return forking.fork(session, principal, org, name, body)


@router.get("/orgs/{org}/jobs", response_model=Page[JobRead])
def list_jobs(org: Name, principal: Reader, session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
              state: JobState | None = None, model: Annotated[str | None, Query(max_length=64)] = None) -> Page[JobRead]:
    before = decode_cursor(cursor, 2)
    items = service.list_jobs(session, principal, org, before=(str(before[0]), str(before[1])) if before else None,
                              limit=limit, state=state.value if state else None, model=model)
    return page_of(items, limit, lambda j: (j.created_at.isoformat(), j.id))


@router.get("/orgs/{org}/jobs/{job_id}", response_model=JobRead)
def get_job(org: Name, job_id: str, principal: Reader, session: SessionDep) -> JobRead:
    return service.get(session, principal, org, job_id)


@router.post("/orgs/{org}/jobs/{job_id}/cancel", response_model=JobRead)
def cancel_job(org: Name, job_id: str, principal: Writer, session: SessionDep) -> JobRead:
    return service.cancel(session, principal, org, job_id)


@router.post("/orgs/{org}/jobs/{job_id}/retry", response_model=JobRead, responses={409: {"model": ErrorBody}})
def retry_job(org: Name, job_id: str, principal: Writer, session: SessionDep) -> JobRead:
    return service.retry(session, principal, org, job_id)


@router.put("/orgs/{org}/models/{name}/retrain-policy", response_model=RetrainPolicyRead, tags=["models"])
def set_retrain_policy(org: Name, name: Name, body: RetrainPolicy, principal: Maintainer,
                       session: SessionDep) -> RetrainPolicyRead:
    return retrain.set_policy(session, principal, org, name, body)


@router.get("/orgs/{org}/models/{name}/retrain-policy", response_model=RetrainPolicyRead, tags=["models"])
def get_retrain_policy(org: Name, name: Name, principal: Reader, session: SessionDep) -> RetrainPolicyRead:
    return retrain.get_policy(session, principal, org, name)


@router.get("/orgs/{org}/jobs/{job_id}/logs", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "log lines, progress, end"}})
async def job_logs(org: Name, job_id: str, principal: Reader, state: StateDep,
                   last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    first = await run_in_threadpool(_snapshot, state, principal, org, job_id, start)  # 404 before streaming
    # the ping (a comment line) keeps proxies from cutting a quiet stream; a client that leaves ends it
    return EventSourceResponse(_stream(state, principal, org, job_id, first), ping=SSE_KEEPALIVE_S, sep="\n",
                               headers={"Cache-Control": "no-cache"})


def _snapshot(state: AppState, principal: Principal, org: str, job_id: str, after: int) -> tuple[JobRead, list, int]:
    with state.db.transaction(write=False) as session:
        job = service.get(session, principal, org, job_id)
        lines = service.logs(session, principal, org, job_id, after)
    return job, lines, lines[-1].seq if lines else after


async def _stream(state: AppState, principal: Principal, org: str, job_id: str,
                  first: tuple[JobRead, list, int]) -> AsyncIterator[ServerSentEvent]:
    job, lines, last_seq = first
    last_progress = None
    while True:
        for line in lines:
            yield ServerSentEvent(data=_json(line.model_dump(mode="json")), event="log", id=str(line.seq))
        progress = (job.state, job.progress, job.message)
        if progress != last_progress:
            last_progress = progress
            payload = {"state": job.state.value, "progress": job.progress, "message": job.message}
            yield ServerSentEvent(data=_json(payload), event="progress")
        if job.state in TERMINAL_STATES:
            yield ServerSentEvent(data=_json(job.model_dump(mode="json")), event="end")
            return
        await asyncio.sleep(SSE_POLL_S)
        job, lines, last_seq = await run_in_threadpool(_snapshot, state, principal, org, job_id, last_seq)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
