"""Request traffic of served models, rolled up per minute and per hour.

One row per (model, step, start, version) holds counts, not samples: every API process adds its
own counts with an upsert, so the stored totals are the sum over processes and survive restarts.
Latency is a histogram: ``le_*`` columns count the requests whose latency fell in the bucket
ending at that bound (not cumulative), so rows add up column by column.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base

# upper bounds of the latency buckets in milliseconds; the last column counts everything above
LATENCY_BOUNDS_MS: tuple[float, ...] = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
BUCKET_COLUMNS: tuple[str, ...] = (
    "le_1ms", "le_2_5ms", "le_5ms", "le_10ms", "le_25ms", "le_50ms", "le_100ms", "le_250ms", "le_500ms",
    "le_1s", "le_2_5s", "le_5s", "le_10s", "le_30s", "le_inf",
)
COUNT_COLUMNS: tuple[str, ...] = ("requests", "client_errors", "server_errors", "latency_sum_ms", *BUCKET_COLUMNS)


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, default=0)


class TrafficRollup(Base):
    # The key leads with the org and the time, and on SQLite the rows are stored in key order
    # (WITHOUT ROWID): an org's window is one contiguous range, not a lookup per row.
    __tablename__ = "traffic_rollups"
    __table_args__ = (
        Index("ix_traffic_rollups_model_step_start", "model_id", "step_s", "start_s"),
        Index("ix_traffic_rollups_step_start", "step_s", "start_s"),
        {"sqlite_with_rowid": False},
    )
    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    step_s: Mapped[int] = mapped_column(Integer, primary_key=True)  # 60 or 3600
    start_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix seconds, a multiple of step_s
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: the request resolved no version
    requests: Mapped[int] = _count()
    client_errors: Mapped[int] = _count()  # 4xx answers
    server_errors: Mapped[int] = _count()  # 5xx answers
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    le_1ms: Mapped[int] = _count()
    le_2_5ms: Mapped[int] = _count()
    le_5ms: Mapped[int] = _count()
    le_10ms: Mapped[int] = _count()
    le_25ms: Mapped[int] = _count()
    le_50ms: Mapped[int] = _count()
    le_100ms: Mapped[int] = _count()
    le_250ms: Mapped[int] = _count()
    le_500ms: Mapped[int] = _count()
    le_1s: Mapped[int] = _count()
    le_2_5s: Mapped[int] = _count()
    le_5s: Mapped[int] = _count()
    le_10s: Mapped[int] = _count()
    le_30s: Mapped[int] = _count()
    le_inf: Mapped[int] = _count()


class ShownItemWeek(Base):
    """How often a recommender showed each item per UTC week (weeks start on Monday 00:00), summed
    over API processes like the rollups: what catalog coverage, popularity concentration and the
    week-over-week drift of a served recommender are computed from."""

    __tablename__ = "shown_item_weeks"
    __table_args__ = {"sqlite_with_rowid": False}
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    week_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix seconds of the week's Monday
    item_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    shown: Mapped[int] = _count()
