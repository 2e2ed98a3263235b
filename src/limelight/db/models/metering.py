"""Usage metered to the org that called, and each org's quotas.

``usage_hours`` holds counts, not samples, like the traffic rollups: every API process adds its own
with an upsert, so the stored totals are the sum over processes. Unlike the rollups (keyed by the
org that *owns* the model, operations data) a row belongs to the org that *called*: a model used
through another org's share, or a public one, is metered to the caller. ``model_id`` carries no
foreign key, so a year of an org's usage survives the owner deleting the model; ``model`` keeps its
``org/name`` for the report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base, utcnow

# the counted columns of usage_hours, in the order the in-memory counts hold them
USAGE_COLUMNS: tuple[str, ...] = ("requests", "client_errors", "server_errors", "prompt_tokens", "completion_tokens")


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, default=0)


class UsageHour(Base):
    __tablename__ = "usage_hours"
    __table_args__ = (
        Index("ix_usage_hours_hour_s", "hour_s"),  # pruning by age, across orgs
        {"sqlite_with_rowid": False},  # an org's months are one contiguous key range
    )
    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    hour_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix seconds, a multiple of 3600
    model_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(130))  # org/name when called
    requests: Mapped[int] = _count()
    client_errors: Mapped[int] = _count()  # 4xx answers
    server_errors: Mapped[int] = _count()  # 5xx answers
    prompt_tokens: Mapped[int] = _count()
    completion_tokens: Mapped[int] = _count()


class OrgQuota(Base):
    """Monthly limits of one org (UTC calendar months); NULL is unlimited. No row: no limits."""

    __tablename__ = "org_quotas"
    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    requests_per_month: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    compute_seconds_per_month: Mapped[float | None] = mapped_column(Float, nullable=True)
    storage_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
