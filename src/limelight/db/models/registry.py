"""Models, immutable versions, aliases and deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from limelight.db.base import Base, CreatedMixin, IdMixin, utcnow


class Model(IdMixin, CreatedMixin, Base):
    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    org_id: Mapped[str] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    visibility: Mapped[str] = mapped_column(String(8), default="private")
    card: Mapped[str] = mapped_column(Text, default="")
    forked_from: Mapped[str | None] = mapped_column(String(130))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    needs_retraining: Mapped[bool] = mapped_column(Boolean, default=False)
    retrain_policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    licence: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SPDX-like id, e.g. "Apache-2.0"
    # The runtime and metrics of the showcase version (production, else the newest), which the
    # marketplace filters and counts by. Database triggers on model_versions and model_aliases keep
    # them (migration 0005); the application never writes them.
    showcase_runtime: Mapped[str | None] = mapped_column(String(32), nullable=True)
    showcase_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    star_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # kept by a trigger on model_stars
    # The marketplace's full-text index follows this table outside the ORM (migration 0005): on
    # SQLite the FTS5 table ``models_fts`` kept in step by triggers, on PostgreSQL the generated
    # ``search_vector`` column. A migration that rebuilds this table (batch mode) must recreate
    # them and the showcase triggers.


class ModelVersion(IdMixin, CreatedMixin, Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(32))
    runtime: Mapped[str] = mapped_column(String(32))
    signature: Mapped[dict[str, Any]] = mapped_column(default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    dataset_version_id: Mapped[str | None] = mapped_column(ForeignKey("dataset_versions.id", ondelete="SET NULL"))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    # The sandbox validator's verdict and the library versions it held; NULL until validated.
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What the job that trained it knew (recipe, data, an example call, its latency, limitations):
    # the generated part of the model card. NULL for uploaded files.
    card_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ModelAlias(Base):
    __tablename__ = "model_aliases"
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="RESTRICT"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deployment(CreatedMixin, Base):
    __tablename__ = "deployments"
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    routes: Mapped[list[Any]] = mapped_column()
    shadow: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sticky_field: Mapped[str] = mapped_column(String(64), default="user_id")
    max_batch_size: Mapped[int] = mapped_column(Integer, default=32)
    max_wait_ms: Mapped[float] = mapped_column(Float, default=2.0)
    max_queue: Mapped[int] = mapped_column(Integer, default=256)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=30_000)
    event_weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
