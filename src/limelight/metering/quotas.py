"""Quotas of an org: inference requests and job compute seconds per UTC calendar month, stored bytes.

A system admin sets them (``PUT /api/v1/orgs/{org}/quotas``, audited); any member reads them with
what is used and what remains. Where each is enforced:

* requests: by the serving engine before a request runs (429 ``quota_exceeded`` with ``Retry-After``
  until the next month, ``metering.meter``), from a per-process cache, never a database read;
* compute seconds: when a job is submitted (403 ``quota_exceeded``): the org's jobs' wall time this
  month, running ones up to now;
* storage: when a dataset or model version is uploaded (403 ``quota_exceeded``), before the body is
  read and again once its size is known, before anything is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import OrgQuota
from limelight.errors import NotFound, QuotaBelowUsage, QuotaExceeded
from limelight.metering import repository
from limelight.orgs import repository as orgs
from limelight.schemas.metering import OrgQuotas, QuotaAmounts, QuotaLimits


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Start of ``moment``'s UTC calendar month and of the next one."""
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, following


def get_quotas(session: Session, principal: Principal, org: str, now: datetime | None = None) -> OrgQuotas:
    """The org's limits, this month's use and what remains (members of the org, and system admins)."""
    org_id = _org_id(session, principal, org)
    return _read(session, org, org_id, repository.quota(session, org_id), now or datetime.now(UTC))


def set_quotas(session: Session, principal: Principal, org: str, body: QuotaLimits,
               now: datetime | None = None) -> OrgQuotas:
    """Replace the org's quotas (system admins; another org is missing to anyone else, as everywhere)."""
    if not principal.can(Permission.system_admin):
        authorize(principal, Permission.org_read, org)  # 404 for an org the caller is not in
        raise principal.refusal(Permission.system_admin)
    org_id = _org_id(session, principal, org)
    row = repository.quota(session, org_id)
    now = now or datetime.now(UTC)
    used = _read(session, org, org_id, row, now).used
    below = {name: {"limit": limit, "used": getattr(used, name)} for name, limit in body.model_dump().items()
             if limit is not None and getattr(used, name) > limit}
    if below:
        shown = ", ".join(f"{name} {v['limit']} < {v['used']} used" for name, v in below.items())
        raise QuotaBelowUsage(f"A quota below what the org already used cannot take effect ({shown}); set it at "
                              "least to the amount used (exactly that amount stops new use until the quota resets).",
                              details={"below": below})
    if row is None:
        row = OrgQuota(org_id=org_id, updated_by=principal.username)
        session.add(row)
    row.requests_per_month, row.storage_bytes = body.requests_per_month, body.storage_bytes
    row.compute_seconds_per_month = body.compute_seconds_per_month
    row.updated_at, row.updated_by = datetime.now(UTC), principal.username
    session.flush()
    audit.record(session, principal, "org.quotas.set", "org", org, body.model_dump(), org_id=org_id)
    return _read(session, org, org_id, row, now)


def check_compute(session: Session, org_id: str, now: datetime | None = None) -> None:
    """403 ``quota_exceeded`` when the org's jobs have used its compute seconds of the month."""
    row = repository.quota(session, org_id)
    if row is None or row.compute_seconds_per_month is None:
        return
    used = compute_seconds_used(session, org_id, now or datetime.now(UTC))
    if used >= row.compute_seconds_per_month:
        limit = row.compute_seconds_per_month
        raise QuotaExceeded(f"This org's jobs have run {used:.0f} of the {limit:g} compute seconds of its monthly "
                            "quota; new jobs wait for the next UTC month or a higher quota from an administrator.",
                            details={"quota": "compute_seconds_per_month", "limit": limit, "used": round(used, 3)})


def check_storage(session: Session, org_id: str, adding_bytes: int) -> None:
    """403 ``quota_exceeded`` when the org's stored files plus ``adding_bytes`` would pass its storage
    quota (``adding_bytes=1`` before an upload's size is known: refuses an org already full)."""
    row = repository.quota(session, org_id)
    if row is None or row.storage_bytes is None:
        return
    used = stored_bytes(session, org_id)
    if used + adding_bytes > row.storage_bytes:
        raise QuotaExceeded(f"Storing {adding_bytes} more bytes would pass this org's storage quota of "
                            f"{row.storage_bytes} bytes ({used} are stored): delete old dataset or model versions, "
                            "or ask an administrator for a higher quota.",
                            details={"quota": "storage_bytes", "limit": row.storage_bytes, "used": used,
                                     "adding": adding_bytes})


def stored_bytes(session: Session, org_id: str) -> int:
    return repository.artifact_bytes(session, org_id) + repository.dataset_bytes(session, org_id)


def compute_seconds_used(session: Session, org_id: str, now: datetime) -> float:
    """Wall seconds the org's jobs ran this UTC month: finished ones start to end, running ones to now."""
    start, _ = month_bounds(now)
    total = 0.0
    for started, finished in repository.jobs_running_since(session, org_id, start):
        total += max(0.0, ((finished or now) - max(started, start)).total_seconds())
    return total


def _org_id(session: Session, principal: Principal, org: str) -> str:
    if not principal.can(Permission.system_admin):
        authorize(principal, Permission.org_read, org)
        return principal.org_id
    found = orgs.org_by_name(session, org)
    if found is None:
        raise NotFound(f"Organization {org!r} not found.")
    return found.id


def _read(session: Session, org: str, org_id: str, row: OrgQuota | None, now: datetime) -> OrgQuotas:
    start, following = month_bounds(now)
    limits = QuotaAmounts(requests_per_month=row.requests_per_month if row else None,
                          compute_seconds_per_month=row.compute_seconds_per_month if row else None,
                          storage_bytes=row.storage_bytes if row else None)
    used = QuotaAmounts(
        requests_per_month=repository.requests_since(session, [org_id], int(start.timestamp())).get(org_id, 0),
        compute_seconds_per_month=round(compute_seconds_used(session, org_id, now), 3),
        storage_bytes=stored_bytes(session, org_id))
    remaining = QuotaAmounts(**{name: None if limit is None else max(0, limit - getattr(used, name))
                                for name, limit in limits.model_dump().items()})
    return OrgQuotas(org=org, limits=limits, used=used, remaining=remaining, period_start=start, resets_at=following,
                     updated_at=row.updated_at if row else None, updated_by=row.updated_by if row else None)
