"""Online experiments: a split of one model's traffic between aliases, and what each variant served.

``ExperimentExposure`` is one answered (or failed) request that an experiment routed: the request id
that events cite to be attributed, the variant, the end user, and the status and latency the
guardrails read. Events stay in ``events`` (their ``request_id`` column); results are computed by
joining the two, so nothing is counted twice and a late event still counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base, CreatedMixin, IdMixin


class Experiment(IdMixin, CreatedMixin, Base):
    __tablename__ = "experiments"
    __table_args__ = (Index("ix_experiments_model_status", "model_id", "status"),)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running | stopped
    # [{"name", "alias", "weight"}]: the first is the control; a rolled-back variant keeps weight 0
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metric: Mapped[str] = mapped_column(String(32))  # ctr | completion_rate | watch_time
    alpha: Mapped[float] = mapped_column(Float)
    min_samples: Mapped[int] = mapped_column(Integer)  # impressions per variant before a decision
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the sample-size plan it came from, if any
    sticky_field: Mapped[str] = mapped_column(String(64))
    guardrails: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"max_error_rate", "max_p99_ms"}
    auto_decide: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column()
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"action", "variant", "reason", "by"}


class ExperimentExposure(Base):
    __tablename__ = "experiment_exposures"
    __table_args__ = (Index("ix_experiment_exposures_variant", "experiment_id", "variant", "ts"),)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    variant: Mapped[str] = mapped_column(String(64))
    end_user: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[int] = mapped_column(SmallInteger)
    latency_ms: Mapped[float] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float)  # epoch seconds
