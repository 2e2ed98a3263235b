"""All SQL of usage reports: reads of the traffic rollups, the jobs and the stored versions of one org."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limelight.db.models import Dataset, DatasetVersion, Job, Model, ModelVersion, TrafficRollup

HOUR_S = 3600


def hourly_traffic(session: Session, org_id: str, since_s: int, until_s: int) -> list[tuple[int, str, int, int, int]]:
    """(hour start, model name, requests, client errors, server errors) of the org's models."""
    rows = session.execute(
        select(TrafficRollup.start_s, Model.name, func.sum(TrafficRollup.requests),
               func.sum(TrafficRollup.client_errors), func.sum(TrafficRollup.server_errors))
        .join(Model, Model.id == TrafficRollup.model_id)
        .where(TrafficRollup.org_id == org_id, TrafficRollup.step_s == HOUR_S,
               TrafficRollup.start_s >= since_s, TrafficRollup.start_s < until_s)
        .group_by(TrafficRollup.start_s, Model.name)
    ).all()
    return [(int(start), str(name), int(n or 0), int(c or 0), int(s or 0)) for start, name, n, c, s in rows]


def finished_jobs(session: Session, org_id: str, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
    """(finished at, seconds it ran) of every job of the org that ended in the window after starting."""
    rows = session.execute(
        select(Job.finished_at, Job.started_at)
        .where(Job.org_id == org_id, Job.finished_at >= since, Job.finished_at < until, Job.started_at.is_not(None))
    ).all()
    return [(finished, max(0.0, (finished - started).total_seconds()))
            for finished, started in rows if finished is not None and started is not None]


def artifact_bytes(session: Session, org_id: str) -> int:
    """Bytes of the distinct model files the org's versions reference (a shared blob counts once)."""
    blobs = (select(ModelVersion.blob_sha256, func.max(ModelVersion.size_bytes).label("size"))
             .join(Model, Model.id == ModelVersion.model_id).where(Model.org_id == org_id)
             .group_by(ModelVersion.blob_sha256).subquery())
    return int(session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0))) or 0)


def dataset_bytes(session: Session, org_id: str) -> int:
    blobs = (select(DatasetVersion.blob_sha256, func.max(DatasetVersion.size_bytes).label("size"))
             .join(Dataset, Dataset.id == DatasetVersion.dataset_id).where(Dataset.org_id == org_id)
             .group_by(DatasetVersion.blob_sha256).subquery())
    return int(session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0))) or 0)
