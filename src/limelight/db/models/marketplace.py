"""What the marketplace adds to models: users' stars, daily usage totals and shares with other orgs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base, CreatedMixin, IdMixin, utcnow


class ModelStar(Base):
    """One user's star on one model (a user stars a model once, whichever org they act in).

    ``models.star_count`` follows this table by database triggers (migration 0005)."""

    __tablename__ = "model_stars"
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelUsageDaily(Base):
    """Inference requests of a model per UTC day, summed from the per-hour traffic rollups.

    Written only by database triggers on ``traffic_rollups`` (migration 0005), which also drop the
    days older than ``USAGE_DAYS_KEPT``: the marketplace's "usage in the last 30 days" then reads
    at most that many rows per model instead of 720 hourly ones."""

    __tablename__ = "model_usage_daily"
    __table_args__ = {"sqlite_with_rowid": False}
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    day_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix seconds of 00:00 UTC
    requests: Mapped[int] = mapped_column(BigInteger, default=0)


USAGE_DAYS_KEPT = 35


class ModelShare(IdMixin, CreatedMixin, Base):
    """One private model shared with one other org: ``invoke`` (call it) or ``read`` (also see its
    card and versions, and fork it). A search-generation trigger follows this table (migration 0007)."""

    __tablename__ = "model_shares"
    __table_args__ = (UniqueConstraint("model_id", "org_id"),)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    access: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
