"""Real-time behaviour events, idempotent per org by event_id.

Each event belongs to the event stream of one ``interactions`` dataset (by name): training on that
dataset reads only its events. ``dataset`` is NULL for events that arrived while the org had no
interactions dataset; no training reads those.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "event_id"),
        Index("ix_events_org_user", "org_id", "user_id"),
        Index("ix_events_org_seq", "org_id", "seq"),
        Index("ix_events_org_dataset_seq", "org_id", "dataset", "seq"),
        Index("ix_events_org_request", "org_id", "request_id"),
    )
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    dataset: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(256))
    item_id: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column()
    # the response the event is about (``request_id`` of a recommendation or prediction): experiments
    # attribute the event to the variant that served it
    request_id: Mapped[str | None] = mapped_column(String(64))
