"""Live behaviour events: idempotent batch ingestion, per-user history, and forgetting a user."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.datasets import repository as datasets_repository
from limelight.db.base import utcnow
from limelight.errors import NotFound, PayloadTooLarge, ValidationFailed
from limelight.events import repository
from limelight.schemas.events import EventBatch, EventBatchResult


def ingest(session: Session, principal: Principal, org: str, batch: EventBatch, *,
           max_events: int) -> tuple[EventBatchResult, list[dict[str, Any]]]:
    """Stores the batch; returns the result and the rows actually stored (for live fold-in).

    Idempotent by ``event_id``: an id already stored (or repeated in the batch) is counted as a
    duplicate and changes nothing.
    """
    authorize(principal, Permission.org_write, org)
    if len(batch.events) > max_events:
        raise PayloadTooLarge(f"At most {max_events} events per batch.", details={"max_events": max_events,
                                                                                   "received": len(batch.events)})
    dataset = _stream_of(session, principal.org_id, org, batch.dataset)
    unique: dict[str, Any] = {}
    for event in batch.events:
        unique.setdefault(event.event_id, event)
    known = repository.existing_event_ids(session, principal.org_id, list(unique))
    now, received = time.time(), utcnow()
    rows = [
        {"org_id": principal.org_id, "dataset": dataset, "event_id": e.event_id, "user_id": e.user_id, "item_id": e.item_id,
         "type": e.type.value, "value": e.value, "ts": e.timestamp if e.timestamp is not None else now,
         "received_at": received, "request_id": e.request_id}
        for event_id, e in unique.items() if event_id not in known
    ]
    repository.insert_ignoring_duplicates(session, rows)
    return EventBatchResult(accepted=len(rows), duplicates=len(batch.events) - len(rows), dataset=dataset), rows


def _stream_of(session: Session, org_id: str, org: str, named: str | None) -> str | None:
    """The interactions dataset a batch belongs to: the one named, or the org's only one.

    With no interactions dataset yet, events are kept without one (no training reads them); with
    several, the caller must say which, since guessing would mix one catalog's events into another's.
    """
    candidates = repository.interactions_dataset_names(session, org_id)
    if named is not None:
        if named in candidates:
            return named
        if datasets_repository.by_name(session, org_id, named) is not None:
            raise ValidationFailed(f"Dataset {org}/{named} is not an interactions dataset.",
                                   details={"fields": [{"field": "dataset", "reason": "not interactions"}]})
        raise NotFound(f"Dataset {org}/{named} not found.")
    if len(candidates) > 1:
        shown = ", ".join(candidates[:5]) + (", …" if len(candidates) > 5 else "")
        raise ValidationFailed(f"This org has several interactions datasets ({shown}): send \"dataset\" to name "
                               "the one these events extend.",
                               details={"fields": [{"field": "dataset", "reason": "required"}],
                                        "datasets": candidates[:50]})
    return candidates[0] if candidates else None


def user_history(session: Session, org_id: str, user_id: str, *, since_ts: float | None = None,
                 limit: int = 500) -> list[tuple[str, str, float | None, float]]:
    """(item_id, type, value, ts), newest first."""
    return [(e.item_id, e.type, e.value, e.ts)
            for e in repository.history(session, org_id, user_id, since_ts=since_ts, limit=limit)]


def forget_events(session: Session, principal: Principal, org: str, user_id: str) -> int:
    authorize(principal, Permission.org_maintain, org)
    deleted = repository.delete_user(session, principal.org_id, user_id)
    audit.record(session, principal, "end_user.forget_events", "end_user", f"{org}/{user_id}",
                 {"events_deleted": deleted})
    return deleted
