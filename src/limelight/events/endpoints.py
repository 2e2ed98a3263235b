"""HTTP routes of live events and end-user erasure."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from limelight.auth.principal import Principal
from limelight.events import forget, service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.events import EventBatch, EventBatchResult, ForgetResult
from limelight.server.deps import Maintainer, StateDep, Writer
from limelight.server.state import AppState

router = APIRouter(prefix="/api/v1/orgs/{org}", tags=["events"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.post("/events", response_model=EventBatchResult, responses={413: {"model": ErrorBody}})
async def ingest_events(org: Name, batch: EventBatch, principal: Writer, state: StateDep) -> EventBatchResult:
    """Stores a batch durably (acknowledged after commit); idempotent by ``event_id``."""
    return await run_in_threadpool(_ingest, state, principal, org, batch)


def _ingest(state: AppState, principal: Principal, org: str, batch: EventBatch) -> EventBatchResult:
    with state.db.transaction() as session:
        result, rows = service.ingest(session, principal, org, batch, max_events=state.settings.limits.max_events_per_batch)
    feed = state.event_feed
    if feed is not None and rows:
        feed.push(rows)  # this process sees them at once; others within one poll of the events table
    return result


@router.delete("/end-users/{user_id:path}", response_model=ForgetResult)
def forget_end_user(org: Name, user_id: str, principal: Maintainer, state: StateDep) -> ForgetResult:
    result = forget.forget_end_user(state, principal, org, user_id)
    feed = state.event_feed
    if feed is not None:
        feed.forget(principal.org_id, user_id)
    return result
