"""All SQL of events: idempotent bulk inserts, per-user history, forgetting a user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from limelight.db.models import Dataset, Event

# SQLite binds at most 32,766 parameters per statement
_ID_CHUNK = 5_000


def existing_event_ids(session: Session, org_id: str, event_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(event_ids), _ID_CHUNK):
        chunk = event_ids[start:start + _ID_CHUNK]
        found.update(session.scalars(
            select(Event.event_id).where(Event.org_id == org_id, Event.event_id.in_(chunk))).all())
    return found


def insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Event).on_conflict_do_nothing(index_elements=["org_id", "event_id"])
    session.execute(statement, rows)


def history(session: Session, org_id: str, user_id: str, *, since_ts: float | None = None,
            limit: int = 500) -> list[Event]:
    query = select(Event).where(Event.org_id == org_id, Event.user_id == user_id)
    if since_ts is not None:
        query = query.where(Event.ts >= since_ts)
    return list(session.scalars(query.order_by(Event.seq.desc()).limit(limit)).all())


def after_seq(session: Session, last_seq: int, limit: int = 10_000) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.seq > last_seq).order_by(Event.seq).limit(limit)).all())


def max_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(Event.seq))) or 0)


def count_since(session: Session, org_id: str, since_seq: int, *, dataset: str | None = None) -> int:
    """Events of the org after ``since_seq``; of one dataset's stream only when ``dataset`` is given."""
    query = select(func.count()).select_from(Event).where(Event.org_id == org_id, Event.seq > since_seq)
    if dataset is not None:
        query = query.where(Event.dataset == dataset)
    return int(session.scalar(query) or 0)


def delete_user(session: Session, org_id: str, user_id: str) -> int:
    result = session.execute(delete(Event).where(Event.org_id == org_id, Event.user_id == user_id))
    return int(getattr(result, "rowcount", 0))


def for_dataset(session: Session, org_id: str, dataset: str, *, after_seq_: int = 0,
                batch: int = 50_000) -> list[Event]:
    """The events of one dataset's stream, oldest first, after ``after_seq_``."""
    return list(session.scalars(select(Event).where(Event.org_id == org_id, Event.dataset == dataset,
                                                    Event.seq > after_seq_)
                                .order_by(Event.seq).limit(batch)).all())


def interactions_dataset_names(session: Session, org_id: str) -> list[str]:
    return list(session.scalars(select(Dataset.name).where(Dataset.org_id == org_id, Dataset.kind == "interactions")
                                .order_by(Dataset.name)).all())
