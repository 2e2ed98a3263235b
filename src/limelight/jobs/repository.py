"""All SQL of jobs: creation, lease-based claiming, heartbeats, reaping, logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from limelight.db.base import utcnow
from limelight.db.models import Job, JobLog


def get(session: Session, org_id: str, job_id: str) -> Job | None:
    job = session.get(Job, job_id)
    return job if job is not None and job.org_id == org_id else None


def of_org(session: Session, org_id: str, *, before: tuple[str, str] | None, limit: int,
           state: str | None = None, model_name: str | None = None) -> list[Job]:
    query = select(Job).where(Job.org_id == org_id)
    if state:
        query = query.where(Job.state == state)
    if model_name:
        query = query.where(Job.model_name == model_name)
    if before is not None:
        stamp = datetime.fromisoformat(before[0])
        query = query.where((Job.created_at < stamp) | ((Job.created_at == stamp) & (Job.id < before[1])))
    return list(session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all())


def claim_next(session: Session, worker_id: str, lease_s: float) -> Job | None:
    """Takes the oldest queued job. SKIP LOCKED lets PostgreSQL workers claim in parallel;
    on SQLite the IMMEDIATE write transaction already makes this atomic."""
    candidate = session.scalars(
        select(Job.id).where(Job.state == "queued").order_by(Job.created_at).limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if candidate is None:
        return None
    now = utcnow()
    claimed = session.execute(
        update(Job).where(Job.id == candidate, Job.state == "queued").values(
            state="running", lease_owner=worker_id, lease_expires_at=now + timedelta(seconds=lease_s),
            heartbeat_at=now, started_at=now, attempts=Job.attempts + 1, error=None,
        )
    ).rowcount  # type: ignore[attr-defined]
    return session.get(Job, candidate, populate_existing=True) if claimed == 1 else None


def heartbeat(session: Session, job_id: str, worker_id: str, lease_s: float) -> tuple[bool, bool]:
    """Extends the lease; returns (still ours, cancel requested)."""
    now = utcnow()
    updated = session.execute(
        update(Job).where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == "running")
        .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_s))
    ).rowcount  # type: ignore[attr-defined]
    cancel = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return updated == 1, bool(cancel)


def standing(session: Session, job_id: str, worker_id: str) -> tuple[bool, bool]:
    """(still running under this worker's lease, cancel requested), without writing."""
    row = session.execute(select(Job.state, Job.lease_owner, Job.cancel_requested).where(Job.id == job_id)).first()
    if row is None:
        return False, False
    return row.state == "running" and row.lease_owner == worker_id, bool(row.cancel_requested)


def set_progress(session: Session, job_id: str, worker_id: str, percent: float, message: str) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.lease_owner == worker_id)
                    .values(progress=percent, message=message[:2000]))


def expired_running(session: Session) -> list[Job]:
    return list(session.scalars(
        select(Job).where(Job.state == "running", Job.lease_expires_at < utcnow()).with_for_update(skip_locked=True)
    ).all())


def finish(session: Session, job: Job, state: str, *, error: str | None = None,
           result: dict[str, Any] | None = None) -> None:
    job.state = state
    job.finished_at = utcnow()
    job.lease_owner = None
    job.lease_expires_at = None
    if error is not None:
        job.error = error[:4000]
    if result is not None:
        job.result = result
    if state == "succeeded":
        job.progress = 100.0


def add_log(session: Session, job_id: str, message: str, level: str = "info") -> None:
    session.add(JobLog(job_id=job_id, ts=utcnow(), level=level, message=message[:4000]))


def logs_after(session: Session, job_id: str, after_seq: int, limit: int = 500) -> list[JobLog]:
    return list(session.scalars(
        select(JobLog).where(JobLog.job_id == job_id, JobLog.seq > after_seq).order_by(JobLog.seq).limit(limit)
    ).all())
