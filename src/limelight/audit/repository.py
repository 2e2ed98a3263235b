"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limelight.db.models import AuditEntry, AuditHead


def lock_head(session: Session) -> AuditHead:
    # FOR UPDATE serialises appenders on PostgreSQL; SQLite write transactions are already serial.
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    return head


def head(session: Session) -> AuditHead:
    return session.scalars(select(AuditHead).where(AuditHead.id == 1)).one()


def iter_entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def page(
    session: Session, *, org_id: str, before_seq: int | None, limit: int,
    action: str | None = None, actor: str | None = None, object_type: str | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if actor:
        query = query.where(AuditEntry.actor.contains(actor))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)).all())


def actions_after(session: Session, action: str, after_seq: int) -> list[tuple[int, str | None, str]]:
    """(seq, org_id, object_id) of the entries of one ``action`` newer than ``after_seq``, oldest first."""
    rows = session.execute(select(AuditEntry.seq, AuditEntry.org_id, AuditEntry.object_id)
                           .where(AuditEntry.seq > after_seq, AuditEntry.action == action).order_by(AuditEntry.seq))
    return [(seq, org_id, object_id) for seq, org_id, object_id in rows]


def last_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)
