"""The rules of monitoring: an org sees only its own models' traffic, over a fixed set of windows.

Traffic is operations data of the org that owns the model, so a model of another org answers 404
here even when it is public in the marketplace: its callers' volumes and errors are not public.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models.monitoring import COUNT_COLUMNS
from limelight.errors import NotFound
from limelight.monitoring import catalog_health as health
from limelight.monitoring import repository
from limelight.monitoring.histogram import add_into, point, stats
from limelight.monitoring.rollups import HOUR_S, MINUTE_S, Counts, RollupKey, by_step, empty_counts
from limelight.monitoring.shown_items import WEEK_S, week_start
from limelight.schemas.monitoring import (
    CatalogHealth,
    CatalogWeek,
    ModelMonitoring,
    ModelTrafficSummary,
    MonitoringWindow,
    OrgMonitoring,
    TrafficPoint,
    VersionTraffic,
)

_TOP_ITEMS = 5
_WINDOWS: dict[MonitoringWindow, tuple[int, int]] = {  # window -> (step_s, steps)
    MonitoringWindow.hour: (MINUTE_S, 60),
    MonitoringWindow.six_hours: (MINUTE_S, 360),
    MonitoringWindow.day: (HOUR_S, 24),
    MonitoringWindow.week: (HOUR_S, 168),
}


@dataclass(frozen=True)
class Span:
    window: MonitoringWindow
    step_s: int
    since_s: int  # start of the oldest step shown
    until_s: int  # end of the newest step (the current, partial one)

    @classmethod
    def of(cls, window: MonitoringWindow, now_s: float) -> Span:
        step_s, steps = _WINDOWS[window]
        current = int(now_s) // step_s * step_s
        return cls(window, step_s, current - (steps - 1) * step_s, current + step_s)

    @property
    def starts(self) -> range:
        return range(self.since_s, self.until_s, self.step_s)

    @property
    def seconds(self) -> int:
        return self.until_s - self.since_s

    def header(self) -> dict[str, Any]:
        return {"window": self.window, "step_s": self.step_s, "since": datetime.fromtimestamp(self.since_s, UTC),
                "until": datetime.fromtimestamp(self.until_s, UTC)}


def store_counts(session: Session, counts: dict[RollupKey, Counts]) -> int:
    """Add one process's pending counts to the stored rollups; counts of deleted models are dropped."""
    ids = repository.model_ids(session, {key.model for key in counts})
    rows = []
    for (model, version, step_s, start_s), values in sorted(by_step(counts).items()):
        if model not in ids:
            continue
        org_id, model_id = ids[model]
        rows.append({"model_id": model_id, "step_s": step_s, "start_s": start_s, "version": version,
                     "org_id": org_id, **dict(zip(COUNT_COLUMNS, values, strict=True))})
    rows.sort(key=lambda r: (r["org_id"], r["step_s"], r["start_s"], r["model_id"], r["version"]))
    repository.add_counts(session, rows)
    return len(rows)


def prune(session: Session, *, minute_retention_days: int, hour_retention_days: int, now_s: float) -> int:
    return (repository.prune(session, MINUTE_S, int(now_s) - minute_retention_days * 86400)
            + repository.prune(session, HOUR_S, int(now_s) - hour_retention_days * 86400))


def org_monitoring(session: Session, principal: Principal, org: str, window: MonitoringWindow,
                   now_s: float | None = None) -> OrgMonitoring:
    authorize(principal, Permission.org_read, org)
    span = Span.of(window, time.time() if now_s is None else now_s)
    org_id = principal.org_id
    totals = _totals_by_model_version(session, org_id, span)
    production = repository.production_versions(session, org_id)
    routes = repository.deployment_routes(session, org_id)
    models = [_model_summary(row, totals.get(row.id, {}), production.get(row.id), _is_canary(routes.get(row.id)),
                             span) for row in repository.org_models(session, org_id)]
    series = {int(start_s): [float(v or 0) for v in values] + [0.0] * (len(COUNT_COLUMNS) - len(values))
              for start_s, *values in repository.org_series(session, org_id, span.step_s, span.since_s)}
    org_stats = stats(_sum(c for m in totals.values() for c in m.values()), span.seconds)
    return OrgMonitoring(org=org, **span.header(), stats=org_stats, points=_dense(series, span), models=models)


def _totals_by_model_version(session: Session, org_id: str, span: Span) -> dict[str, dict[int, list[float]]]:
    """Per model and version over the span; whole hours inside a minute-step window are read from the
    hour rows (written in the same transaction as their minutes), so 6 hours read ~1/3 of the rows."""
    first_hour = -(-span.since_s // HOUR_S) * HOUR_S
    last_hour = span.until_s // HOUR_S * HOUR_S
    if span.step_s == HOUR_S or first_hour >= last_hour:
        pieces = [(span.step_s, span.since_s, span.until_s)]
    else:
        pieces = [(MINUTE_S, span.since_s, first_hour), (HOUR_S, first_hour, last_hour),
                  (MINUTE_S, last_hour, span.until_s)]
    totals: dict[str, dict[int, list[float]]] = {}
    for step_s, since_s, until_s in pieces:
        for model_id, version, *values in repository.totals_by_model_version(session, org_id, step_s, since_s,
                                                                             until_s):
            add_into(totals.setdefault(model_id, {}).setdefault(version, empty_counts()), values)
    return totals


def model_monitoring(session: Session, principal: Principal, org: str, name: str, window: MonitoringWindow,
                     now_s: float | None = None) -> ModelMonitoring:
    authorize(principal, Permission.org_read, org)
    model = repository.model_in_org(session, principal.org_id, name)
    if model is None:
        raise NotFound.model(org, name)
    span = Span.of(window, time.time() if now_s is None else now_s)
    per_version: dict[int, dict[int, list[float]]] = {}
    together: dict[int, list[float]] = {}
    for start_s, version, *values in repository.model_series(session, model.id, span.step_s, span.since_s):
        counts = [float(v or 0) for v in values]
        per_version.setdefault(version, {})[start_s] = counts
        add_into(together.setdefault(start_s, empty_counts()), counts)
    versions = [VersionTraffic(version=version or None, stats=stats(_sum(series.values()), span.seconds),
                               points=_dense(series, span)) for version, series in sorted(per_version.items())]
    canary = _is_canary(repository.deployment_routes(session, principal.org_id, model.id).get(model.id))
    return ModelMonitoring(org=org, name=model.name, task=model.task, **span.header(), canary=canary,
                           stats=stats(_sum(together.values()), span.seconds), points=_dense(together, span),
                           versions=versions)


def _model_summary(row: Any, by_version: dict[int, list[float]], production: int | None, canary: bool,
                   span: Span) -> ModelTrafficSummary:
    versions = [VersionTraffic(version=version or None, stats=stats(counts, span.seconds))
                for version, counts in sorted(by_version.items())]
    return ModelTrafficSummary(name=row.name, task=row.task, production_version=production, canary=canary,
                               stats=stats(_sum(by_version.values()), span.seconds), versions=versions)


def _is_canary(routes: list[Any] | None) -> bool:
    """Live traffic split: more than one route with a positive weight."""
    return sum(1 for r in routes or [] if isinstance(r, dict) and float(r.get("weight") or 0) > 0) > 1


def _sum(rows: Iterable[Sequence[float]]) -> list[float]:
    total = empty_counts()
    for counts in rows:
        add_into(total, counts)
    return total


def _dense(series: dict[int, list[float]], span: Span) -> list[TrafficPoint]:
    """One point per step of the window; steps without traffic count zero."""
    zero = empty_counts()
    return [point(start_s, series.get(start_s, zero)) for start_s in span.starts]



def catalog_health(session: Session, principal: Principal, org: str, name: str, *, weeks: int = 8,
                   now_s: float | None = None) -> CatalogHealth:
    """What a served recommender showed per week: coverage, Gini concentration, week-over-week drift."""
    authorize(principal, Permission.org_read, org)
    model = repository.model_in_org(session, principal.org_id, name)
    if model is None or model.task != "recommend":
        raise NotFound.model(org, name) if model is None else NotFound(
            f"{org}/{name} is not a recommender; catalog health is measured on recommenders.",
            details={"task": model.task})
    current = week_start(time.time() if now_s is None else now_s)
    first = current - (weeks - 1) * WEEK_S
    shown = repository.shown_items(session, model.id, first - WEEK_S)  # and the week before, for drift
    production = repository.production_versions(session, principal.org_id).get(model.id)
    size = repository.catalog_size(session, model.id, production)
    out = []
    for start in range(first, current + WEEK_S, WEEK_S):
        items = shown.get(start, {})
        top = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))[:_TOP_ITEMS]
        out.append(CatalogWeek(start=datetime.fromtimestamp(start, UTC), recommendations=sum(items.values()),
                               distinct_items=len(items), coverage=health.coverage(items, size),
                               gini=health.gini(items, size), drift=health.drift(shown.get(start - WEEK_S, {}), items),
                               top_items=top))
    return CatalogHealth(org=org, name=model.name, catalog_size=size, weeks=out)
