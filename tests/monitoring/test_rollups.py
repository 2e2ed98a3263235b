"""Traffic rollups on SQLite and PostgreSQL: counts of several processes add up, reads stay per org."""

from __future__ import annotations

from typing import Any

import pytest

from limelight.auth.principal import Principal
from limelight.db.models import Deployment, Model, Org
from limelight.errors import NotFound
from limelight.monitoring import service
from limelight.monitoring.histogram import quantile_ms
from limelight.monitoring.rollups import RollupBuffer
from limelight.schemas.monitoring import MonitoringWindow
from limelight.schemas.tenancy import Role, Scope

NOW_S = 1_800_000_000.0  # a fixed clock: 2027-01-15 08:00 UTC, on a minute and an hour boundary


class Clock:
    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def _org(session: Any, name: str, models: list[str]) -> Principal:
    org = Org(name=name, display_name=name)
    session.add(org)
    session.flush()
    for model in models:
        session.add(Model(org_id=org.id, name=model, task="classify"))
    session.flush()
    return Principal(user_id="u", username="u", org_id=org.id, org_name=name, role=Role.viewer,
                     scopes=frozenset({Scope.read}))


@pytest.fixture
def orgs(database):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        a = _org(session, "acme", ["films", "series"])
        b = _org(session, "rival", ["films"])
    return a, b


def _store(database, buffer: RollupBuffer) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        service.store_counts(session, buffer.take())


def test_counts_of_two_processes_add_up_per_minute_and_hour(database, orgs) -> None:  # type: ignore[no-untyped-def]
    acme, _ = orgs
    clock = Clock(NOW_S - 90)  # two minutes ago, in the previous hour
    first, second = RollupBuffer(clock), RollupBuffer(clock)
    for _ in range(3):
        first.observe("acme/films", "1", 200, 0.004)
    second.observe("acme/films", "1", 404, 0.020)
    second.observe("acme/films", "2", 503, 0.2)
    _store(database, first)
    _store(database, second)
    clock.now_s = NOW_S + 5
    first.observe("acme/films", "1", 200, 0.004)
    _store(database, first)
    with database.transaction(write=False) as session:
        hour = service.model_monitoring(session, acme, "acme", "films", MonitoringWindow.hour, now_s=NOW_S + 10)
        day = service.model_monitoring(session, acme, "acme", "films", MonitoringWindow.day, now_s=NOW_S + 10)
    for view in (hour, day):
        assert (view.stats.requests, view.stats.client_errors, view.stats.server_errors) == (6, 1, 1)
        assert view.stats.availability == pytest.approx(5 / 6)
        assert {v.version: v.stats.requests for v in view.versions} == {1: 5, 2: 1}
        assert sum(p.requests for p in view.points) == 6
    assert len(hour.points) == 60 and hour.step_s == 60 and len(day.points) == 24 and day.step_s == 3600
    assert [p.requests for p in hour.points if p.requests] == [5, 1]  # the minute 90 s ago, and this one
    assert hour.versions[0].stats.p50_ms is not None and 2.5 <= hour.versions[0].stats.p50_ms <= 25


def test_an_org_sees_only_its_models(database, orgs) -> None:  # type: ignore[no-untyped-def]
    acme, rival = orgs
    buffer = RollupBuffer(Clock(NOW_S))
    buffer.observe("acme/films", "1", 200, 0.01)
    buffer.observe("rival/films", "1", 200, 0.01)
    buffer.observe("rival/films", "1", 200, 0.01)
    buffer.observe("ghost/nothing", "1", 200, 0.01)  # no such model: dropped, not an error
    _store(database, buffer)
    with database.transaction(write=False) as session:
        mine = service.org_monitoring(session, acme, "acme", MonitoringWindow.hour, now_s=NOW_S)
        theirs = service.org_monitoring(session, rival, "rival", MonitoringWindow.hour, now_s=NOW_S)
        with pytest.raises(NotFound):
            service.org_monitoring(session, acme, "rival", MonitoringWindow.hour, now_s=NOW_S)
        with pytest.raises(NotFound):
            service.model_monitoring(session, acme, "acme", "nothing", MonitoringWindow.hour, now_s=NOW_S)
    assert [m.name for m in mine.models] == ["films", "series"] and mine.stats.requests == 1
    assert [m.stats.requests for m in mine.models] == [1, 0]
    assert theirs.stats.requests == 2 and sum(p.requests for p in theirs.points) == 2


def test_a_canary_deployment_is_reported(database, orgs) -> None:  # type: ignore[no-untyped-def]
    acme, _ = orgs
    with database.transaction() as session:
        films = session.query(Model).filter_by(org_id=acme.org_id, name="films").one()
        session.add(Deployment(model_id=films.id, routes=[{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]))
    with database.transaction(write=False) as session:
        view = service.model_monitoring(session, acme, "acme", "films", MonitoringWindow.hour, now_s=NOW_S)
        overview = service.org_monitoring(session, acme, "acme", MonitoringWindow.hour, now_s=NOW_S)
    assert view.canary is True and view.stats.requests == 0 and view.stats.availability is None
    assert [m.canary for m in overview.models] == [True, False]


def test_rollups_past_retention_are_pruned(database, orgs) -> None:  # type: ignore[no-untyped-def]
    acme, _ = orgs
    old, recent = RollupBuffer(Clock(NOW_S - 8 * 86400)), RollupBuffer(Clock(NOW_S - 3600))
    old.observe("acme/films", "1", 200, 0.01)
    recent.observe("acme/films", "1", 200, 0.01)
    _store(database, old)
    _store(database, recent)
    with database.transaction() as session:
        removed = service.prune(session, minute_retention_days=7, hour_retention_days=7, now_s=NOW_S)
    with database.transaction(write=False) as session:
        week = service.model_monitoring(session, acme, "acme", "films", MonitoringWindow.week, now_s=NOW_S)
    assert removed == 2 and week.stats.requests == 1  # the old minute and hour rows; the recent ones stay


def test_latency_quantiles_interpolate_inside_buckets() -> None:
    # 1..14 finite bounds (ms) then overflow; 10 requests in (5, 10] ms
    buckets = [0.0] * 15
    buckets[3] = 10
    assert quantile_ms(buckets, 0.5) == pytest.approx(7.5)
    assert quantile_ms(buckets, 1.0) == pytest.approx(10.0)
    buckets[14] = 90  # most requests beyond the last bound: report that bound
    assert quantile_ms(buckets, 0.99) == 30000
    assert quantile_ms([0.0] * 15, 0.5) is None


def test_six_hours_mix_minute_and_hour_rows_without_double_counting(database, orgs) -> None:  # type: ignore[no-untyped-def]
    acme, _ = orgs
    now_s = NOW_S + 30 * 60  # half past: the window starts and ends inside an hour
    for ago_s, calls in ((6 * 3600 - 120, 1), (6 * 3600 + 600, 100), (150 * 60, 2), (90 * 60, 3), (60, 4)):
        buffer = RollupBuffer(Clock(now_s - ago_s))  # 6h10m ago falls outside the window
        for _ in range(calls):
            buffer.observe("acme/films", "1", 500 if calls == 3 else 200, 0.01)
        _store(database, buffer)
    with database.transaction(write=False) as session:
        org = service.org_monitoring(session, acme, "acme", MonitoringWindow.six_hours, now_s=now_s)
        model = service.model_monitoring(session, acme, "acme", "films", MonitoringWindow.six_hours, now_s=now_s)
    assert org.stats.requests == model.stats.requests == org.models[0].stats.requests == 10
    assert org.stats.server_errors == 3 and sum(p.requests for p in org.points) == 10 and len(org.points) == 360
