"""Usage reports: what an org's models served and failed, what its jobs computed, what it stores.

Inference counts come from the hourly traffic rollups that monitoring already keeps (durable,
summed over every API process), so they reach back ``monitoring.hour_retention_days``; compute
seconds are the wall time of the org's jobs between start and end; storage is counted now, each
content-addressed blob once. Periods are UTC days or hours.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from limelight.auth.principal import Permission, Principal, authorize
from limelight.errors import InvalidParams
from limelight.metering import repository
from limelight.schemas.metering import ModelUsage, PeriodUsage, StorageUsage, UsageReport

Granularity = Literal["day", "hour"]
MAX_HOURLY_DAYS = 14  # an hourly report longer than two weeks is thousands of rows: ask for days


def report(session: Session, principal: Principal, org: str, *, days: int, granularity: Granularity,
           now: datetime | None = None, retention_days: int) -> UsageReport:
    authorize(principal, Permission.org_read, org)
    if granularity == "hour" and days > MAX_HOURLY_DAYS:
        raise InvalidParams(f"An hourly report covers at most {MAX_HOURLY_DAYS} days; ask for granularity=day.",
                            details={"field": "days", "max": MAX_HOURLY_DAYS})
    step = timedelta(hours=1) if granularity == "hour" else timedelta(days=1)
    now = now or datetime.now(UTC)
    end = _floor(now, granularity) + step
    start = end - step * (days * 24 if granularity == "hour" else days)
    periods = {start + step * i: PeriodUsage(start=start + step * i) for i in range(int((end - start) / step))}
    models: dict[str, ModelUsage] = {}
    for hour_s, name, requests, client_errors, server_errors in repository.hourly_traffic(
            session, principal.org_id, int(start.timestamp()), int(end.timestamp())):
        period = periods[_floor(datetime.fromtimestamp(hour_s, UTC), granularity)]
        period.requests += requests
        period.client_errors += client_errors
        period.server_errors += server_errors
        model = models.setdefault(name, ModelUsage(model=f"{org}/{name}"))
        model.requests += requests
        model.client_errors += client_errors
        model.server_errors += server_errors
    for finished, seconds in repository.finished_jobs(session, principal.org_id, start, end):
        period = periods[_floor(finished, granularity)]
        period.compute_seconds = round(period.compute_seconds + seconds, 3)
        period.jobs += 1
    return UsageReport(
        org=org, granularity=granularity, start=start, end=end, periods=list(periods.values()),
        models=sorted(models.values(), key=lambda m: (-m.requests, m.model)),
        storage=StorageUsage(artifact_bytes=repository.artifact_bytes(session, principal.org_id),
                             dataset_bytes=repository.dataset_bytes(session, principal.org_id)),
        inference_kept_days=retention_days)


def as_csv(usage: UsageReport) -> str:
    """One row per period and quantity (and per model for inference), for spreadsheets and billing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period_start", "quantity", "model", "value"])
    for period in usage.periods:
        stamp = period.start.isoformat()
        for quantity in ("requests", "client_errors", "server_errors", "compute_seconds", "jobs"):
            writer.writerow([stamp, quantity, "", getattr(period, quantity)])
    for model in usage.models:
        writer.writerow([usage.start.isoformat(), "requests_in_window", model.model, model.requests])
    writer.writerow([usage.end.isoformat(), "artifact_bytes", "", usage.storage.artifact_bytes])
    writer.writerow([usage.end.isoformat(), "dataset_bytes", "", usage.storage.dataset_bytes])
    return out.getvalue()


def _floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC)
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
