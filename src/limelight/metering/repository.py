"""All SQL of metering: the usage hours (written, pruned, read), the quotas, and the reads of jobs and
stored versions that compute and storage are measured from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, or_, select
from sqlalchemy.orm import Session

from limelight.db import upsert
from limelight.db.models import Dataset, DatasetVersion, Job, Model, ModelVersion, Org, OrgQuota, UsageHour
from limelight.db.models.metering import USAGE_COLUMNS

_KEY = ("org_id", "hour_s", "model_id")
_TABLE = UsageHour.__table__


def add_usage(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add rows' counts to the stored hours (``rows`` sorted by key)."""
    upsert.add_counts(session, _TABLE, _KEY, USAGE_COLUMNS, rows)  # type: ignore[arg-type]


def existing_org_ids(session: Session, org_ids: Iterable[str]) -> set[str]:
    wanted = list(org_ids)
    return set(session.scalars(select(Org.id).where(Org.id.in_(wanted)))) if wanted else set()


def prune_usage(session: Session, before_s: int) -> int:
    result = session.execute(delete(UsageHour).where(UsageHour.hour_s < before_s))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def hourly_usage(session: Session, org_id: str, since_s: int, until_s: int) -> list[Row[Any]]:
    """(hour_s, model, *USAGE_COLUMNS) of the org's calls in [since_s, until_s)."""
    return list(session.execute(
        select(UsageHour.hour_s, UsageHour.model, *[UsageHour.__table__.c[name] for name in USAGE_COLUMNS])
        .where(UsageHour.org_id == org_id, UsageHour.hour_s >= since_s, UsageHour.hour_s < until_s)
    ))


def requests_since(session: Session, org_ids: Iterable[str], since_s: int) -> dict[str, int]:
    """Requests of each org since ``since_s`` (orgs without any are absent)."""
    wanted = list(org_ids)
    if not wanted:
        return {}
    rows = session.execute(select(UsageHour.org_id, func.sum(UsageHour.requests))
                           .where(UsageHour.org_id.in_(wanted), UsageHour.hour_s >= since_s)
                           .group_by(UsageHour.org_id))
    return {org_id: int(total or 0) for org_id, total in rows}


def quota(session: Session, org_id: str) -> OrgQuota | None:
    return session.get(OrgQuota, org_id)


def request_quotas(session: Session) -> dict[str, int]:
    """org id -> requests per month, of the orgs that have that quota."""
    rows = session.execute(select(OrgQuota.org_id, OrgQuota.requests_per_month)
                           .where(OrgQuota.requests_per_month.is_not(None)))
    return {org_id: int(limit or 0) for org_id, limit in rows}


def finished_jobs(session: Session, org_id: str, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
    """(finished at, seconds it ran) of every job of the org that ended in the window after starting."""
    rows = session.execute(
        select(Job.finished_at, Job.started_at)
        .where(Job.org_id == org_id, Job.finished_at >= since, Job.finished_at < until, Job.started_at.is_not(None))
    ).all()
    return [(finished, max(0.0, (finished - started).total_seconds()))
            for finished, started in rows if finished is not None and started is not None]


def jobs_running_since(session: Session, org_id: str, since: datetime) -> list[tuple[datetime, datetime | None]]:
    """(started at, finished at or None while running) of the org's jobs that ran after ``since``."""
    rows = session.execute(
        select(Job.started_at, Job.finished_at)
        .where(Job.org_id == org_id, Job.started_at.is_not(None),
               or_(Job.finished_at >= since, Job.finished_at.is_(None) & (Job.state == "running")))
    ).all()
    return [(started, finished) for started, finished in rows if started is not None]


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
