"""The usage meter on SQLite and PostgreSQL, with an injected clock: hours past the retention are
pruned, a report reaches back 13 months, and an org's monthly count stays exact across flushes and
quota re-reads in one process and adds up across processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from limelight.auth.principal import Principal
from limelight.config import MeteringSettings
from limelight.db.models import Model, Org, OrgQuota, UsageHour
from limelight.errors import QuotaExceeded, RequestQuotaExceeded
from limelight.metering import service
from limelight.metering.meter import UsageRecorder
from limelight.pending_counts import PRUNE_EVERY_S
from limelight.schemas.tenancy import Role, Scope

NOW_S = 1_800_000_000.0  # 2027-01-15 08:00 UTC
DAY_S = 86400


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def caller(database) -> Principal:  # type: ignore[no-untyped-def]
    """Org ``caller`` (no models) and org ``owner`` with model ``films``."""
    with database.transaction() as session:
        owner, caller = Org(name="owner", display_name="owner"), Org(name="caller", display_name="caller")
        session.add_all([owner, caller])
        session.flush()
        session.add(Model(org_id=owner.id, name="films", task="classify"))
    return Principal(user_id="u", username="u", org_id=caller.id, org_name="caller", role=Role.viewer,
                     scopes=frozenset({Scope.read}))


def _recorder(database: Any, clock: Clock, retention_days: int = 400) -> UsageRecorder:
    return UsageRecorder(database, MeteringSettings(retention_days=retention_days), flush_interval_s=1.0, clock=clock)


def _hours(database: Any) -> list[tuple[int, str, int]]:
    with database.transaction() as session:
        rows = session.execute(select(UsageHour.hour_s, UsageHour.model, UsageHour.requests)
                               .order_by(UsageHour.hour_s))
        return [(int(h), str(m), int(n)) for h, m, n in rows]


def test_hours_past_the_retention_are_pruned_and_a_report_reaches_back_13_months(database, caller) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(NOW_S - 401 * DAY_S)
    recorder = _recorder(database, clock)
    recorder.observe(caller.org_id, "owner/films", 200, 0, 0)
    clock.now_s = NOW_S - 399 * DAY_S
    recorder.observe(caller.org_id, "owner/films", 200, 12, 30)
    recorder.observe(caller.org_id, "owner/films", 500, 0, 0)
    recorder.observe(caller.org_id, "owner/deleted-model", 200, 0, 0)  # dropped: no such model
    clock.now_s = NOW_S
    asyncio.run(recorder.flush())  # writes both hours, then prunes what is older than 400 days
    kept_hour = int(NOW_S - 399 * DAY_S) // 3600 * 3600
    assert _hours(database) == [(kept_hour, "owner/films", 2)]
    with database.transaction() as session:
        report = service.report(session, caller, "caller", days=400, granularity="day",
                                now=datetime.fromtimestamp(NOW_S, UTC), retention_days=400)
    assert [m.model_dump() for m in report.models] == [{"model": "owner/films", "requests": 2, "client_errors": 0,
                                                        "server_errors": 1, "prompt_tokens": 12,
                                                        "completion_tokens": 30}]
    assert sum(p.completion_tokens for p in report.periods) == 30 and len(report.periods) == 400
    clock.now_s = NOW_S + 2 * DAY_S + PRUNE_EVERY_S  # two days on: that hour is past the retention too
    asyncio.run(recorder.flush())
    assert _hours(database) == []


def test_an_orgs_monthly_count_is_exact_across_flushes_and_rereads(database, caller) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        session.add(OrgQuota(org_id=caller.org_id, requests_per_month=6, updated_by="admin"))
    clock = Clock(NOW_S)
    here, there = _recorder(database, clock), _recorder(database, clock)  # two API processes

    async def scenario() -> list[int]:
        seen = []
        await here.refresh()
        for _ in range(3):
            here.admit(caller.org_id)
            here.observe(caller.org_id, "owner/films", 200, 0, 0)
        seen.append(here.used(caller.org_id))  # counted, not written
        await here.flush()
        seen.append(here.used(caller.org_id))  # written, not yet re-read
        await here.refresh()
        seen.append(here.used(caller.org_id))  # read back from the store
        there.observe(caller.org_id, "owner/films", 404, 0, 0)
        await there.flush()
        here.observe(caller.org_id, "owner/films", 200, 0, 0)
        await here.refresh()
        seen.append(here.used(caller.org_id))  # the other process's flushed call, and this one's pending
        here.observe(caller.org_id, "owner/films", 200, 0, 0)
        await here.flush()
        await here.refresh()
        seen.append(here.used(caller.org_id))
        return seen

    assert asyncio.run(scenario()) == [3, 3, 3, 5, 6]
    with pytest.raises(RequestQuotaExceeded) as refused:
        here.admit(caller.org_id)
    assert isinstance(refused.value, QuotaExceeded) and refused.value.status == 429
    assert refused.value.details["limit"] == 6 and refused.value.details["used"] == 6
    next_month = int(datetime(2027, 2, 1, tzinfo=UTC).timestamp())
    assert float(refused.value.headers()["Retry-After"]) == next_month - NOW_S
    assert dict(here.quota_headers(caller.org_id)) == {b"x-quota-requests-limit": b"6",
                                                       b"x-quota-requests-remaining": b"0",
                                                       b"x-quota-reset": str(next_month).encode()}
    clock.now_s = next_month + 1.0  # a new month: last month's calls no longer count
    asyncio.run(here.refresh())
    here.admit(caller.org_id)
    assert here.used(caller.org_id) == 0


def test_calls_by_an_org_deleted_meanwhile_are_dropped_not_retried(database, caller) -> None:  # type: ignore[no-untyped-def]
    recorder = _recorder(database, Clock(NOW_S))
    recorder.observe("0" * 32, "owner/films", 200, 0, 0)  # an org id that does not exist (any more)
    recorder.observe(caller.org_id, "owner/films", 200, 0, 0)
    asyncio.run(recorder.flush())
    assert _hours(database) == [(int(NOW_S), "owner/films", 1)] and recorder.buffer.take() == {}
