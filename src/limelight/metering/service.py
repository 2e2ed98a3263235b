"""Usage reports: what an org called and what it failed, generated, computed and stores.

Inference counts come from ``usage_hours``: each call is metered to the org that made it
(``metering.meter``, summed over every API process), including calls of another org's model shared
with it or public, which show as ``owner/name`` here and not in the owner's report (the owner sees
that traffic on its monitoring pages). They reach back ``metering.retention_days``. Compute seconds
are the wall time of the org's jobs between start and end; storage is counted now, each
content-addressed blob once. Periods are UTC days or hours.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models.metering import USAGE_COLUMNS
from limelight.errors import InvalidParams
from limelight.metering import repository
from limelight.monitoring.repository import model_ids
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
    for row in repository.hourly_usage(session, principal.org_id, int(start.timestamp()), int(end.timestamp())):
        period = periods[_floor(datetime.fromtimestamp(row.hour_s, UTC), granularity)]
        model = models.setdefault(row.model, ModelUsage(model=row.model))
        counts: tuple[int | None, ...] = tuple(row[2:])
        for name, value in zip(USAGE_COLUMNS, counts, strict=True):
            setattr(period, name, getattr(period, name) + int(value or 0))
            setattr(model, name, getattr(model, name) + int(value or 0))
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
        for quantity in (*USAGE_COLUMNS, "compute_seconds", "jobs"):
            writer.writerow([stamp, quantity, "", getattr(period, quantity)])
    for model in usage.models:
        for quantity in USAGE_COLUMNS:
            writer.writerow([usage.start.isoformat(), f"{quantity}_in_window", model.model, getattr(model, quantity)])
    writer.writerow([usage.end.isoformat(), "artifact_bytes", "", usage.storage.artifact_bytes])
    writer.writerow([usage.end.isoformat(), "dataset_bytes", "", usage.storage.dataset_bytes])
    return out.getvalue()


def store_usage(session: Session, counts: dict[tuple[str, int, str], list[float]]) -> int:
    """Add one process's pending usage, keyed (caller org id, hour, ``org/name``), to the stored hours;
    calls of deleted models, or by deleted orgs, are dropped."""
    ids = model_ids(session, {model for _, _, model in counts})
    callers = repository.existing_org_ids(session, {org_id for org_id, _, _ in counts})
    rows = [{"org_id": org_id, "hour_s": hour_s, "model_id": ids[model][1], "model": model,
             **{name: int(value) for name, value in zip(USAGE_COLUMNS, values, strict=True)}}
            for (org_id, hour_s, model), values in counts.items() if model in ids and org_id in callers]
    rows.sort(key=lambda r: (r["org_id"], r["hour_s"], r["model_id"]))
    repository.add_usage(session, rows)
    return len(rows)


def _floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC)
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
