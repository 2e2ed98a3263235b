"""All SQL of experiments: the experiment rows, the exposure log, and the per-variant results joined
with the events that cite an exposure's request id."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, exists, func, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from limelight.db.models import Event, Experiment, ExperimentExposure

X = ExperimentExposure
HOUR_S = 3600


@dataclass
class VariantRow:
    requests: int = 0
    impressions: int = 0
    server_errors: int = 0
    clicks: int = 0
    completions: int = 0
    watch_sum: float = 0.0
    watch_sq: float = 0.0
    p99_latency_ms: float | None = None


def running_for_model(session: Session, model_id: str, *, for_update: bool = False) -> Experiment | None:
    query = select(Experiment).where(Experiment.model_id == model_id, Experiment.status == "running")
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def get(session: Session, model_id: str, experiment_id: str, *, for_update: bool = False) -> Experiment | None:
    query = select(Experiment).where(Experiment.model_id == model_id, Experiment.id == experiment_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def for_model(session: Session, model_id: str, limit: int = 100) -> list[Experiment]:
    return list(session.scalars(select(Experiment).where(Experiment.model_id == model_id)
                                .order_by(Experiment.created_at.desc(), Experiment.id).limit(limit)))


def for_org(session: Session, org_id: str, limit: int = 200) -> list[Experiment]:
    return list(session.scalars(select(Experiment).where(Experiment.org_id == org_id)
                                .order_by(Experiment.created_at.desc(), Experiment.id).limit(limit)))


def running_auto(session: Session) -> list[Experiment]:
    return list(session.scalars(select(Experiment).where(Experiment.status == "running",
                                                         Experiment.auto_decide.is_(True))))


def add_exposures(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert exposures; a request id an experiment already logged keeps its first row (a client that
    re-sends its own X-Request-Id cannot count twice)."""
    if not rows:
        return
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    session.execute(insert(X).on_conflict_do_nothing(index_elements=["experiment_id", "request_id"]),
                    list(rows))


def _outcomes(org_id: str, experiment_id: str) -> Any:
    """Per request id cited by this org's events: clicked, completed, seconds played."""
    cited = select(X.request_id).where(X.experiment_id == experiment_id)
    return (select(Event.request_id.label("rid"),
                   func.max(case((Event.type == "click", 1), else_=0)).label("clicked"),
                   func.max(case((Event.type == "complete", 1), else_=0)).label("completed"),
                   func.sum(case((Event.type == "play", func.coalesce(Event.value, 0.0)), else_=0.0)).label("watch"))
            .where(Event.org_id == org_id, Event.request_id.in_(cited))
            .group_by(Event.request_id).subquery())


def variant_rows(session: Session, org_id: str, experiment_id: str) -> dict[str, VariantRow]:
    events = _outcomes(org_id, experiment_id)
    answered = X.status < 400
    watch = func.coalesce(events.c.watch, 0.0)
    rows = session.execute(
        select(X.variant, func.count(),
               func.sum(cast(answered, Integer)), func.sum(cast(X.status >= 500, Integer)),
               func.sum(case((and_(answered, events.c.clicked == 1), 1), else_=0)),
               func.sum(case((and_(answered, events.c.completed == 1), 1), else_=0)),
               func.sum(case((answered, watch), else_=0.0)),
               func.sum(case((answered, watch * watch), else_=0.0)))
        .select_from(X).outerjoin(events, events.c.rid == X.request_id)
        .where(X.experiment_id == experiment_id).group_by(X.variant)
    ).all()
    found = {str(v): VariantRow(int(n), int(ok or 0), int(err or 0), int(c or 0), int(d or 0),
                                float(w or 0.0), float(q or 0.0))
             for v, n, ok, err, c, d, w, q in rows}
    for variant, row in found.items():
        row.p99_latency_ms = _p99(session, experiment_id, variant, row.requests)
    return found


def _p99(session: Session, experiment_id: str, variant: str, n: int) -> float | None:
    if n == 0:
        return None
    rank = max(0, math.ceil(0.99 * n) - 1)  # the nearest-rank percentile
    return session.scalar(select(X.latency_ms).where(X.experiment_id == experiment_id, X.variant == variant)
                          .order_by(X.latency_ms).offset(rank).limit(1))


def attributed_events(session: Session, org_id: str, experiment_id: str) -> int:
    cited = select(X.request_id).where(X.experiment_id == experiment_id)
    return int(session.scalar(select(func.count()).select_from(Event)
                              .where(Event.org_id == org_id, Event.request_id.in_(cited))) or 0)


def unattributed_events(session: Session, org_id: str, since_ts: float, until_ts: float | None) -> int:
    """Events of the org in the window citing a request id that none of the org's experiments served."""
    served = (select(X.request_id).join(Experiment, Experiment.id == X.experiment_id)
              .where(Experiment.org_id == org_id, X.request_id == Event.request_id))
    query = (select(func.count()).select_from(Event)
             .where(Event.org_id == org_id, Event.request_id.is_not(None), Event.ts >= since_ts, ~exists(served)))
    if until_ts is not None:
        query = query.where(Event.ts <= until_ts)
    return int(session.scalar(query) or 0)


def hourly(session: Session, org_id: str, experiment_id: str) -> list[tuple[int, str, int, int]]:
    """(hour start, variant, impressions, clicked impressions), oldest first."""
    events = _outcomes(org_id, experiment_id)
    # floor, not CAST: PostgreSQL's CAST rounds (SQLite's truncates, and has no floor without its math build)
    hours = cast(X.ts, Integer) if session.get_bind().dialect.name == "sqlite" else func.floor(X.ts)
    hour = (cast(hours, Integer) // HOUR_S) * HOUR_S  # // : SQLAlchemy 2 renders / as true division
    rows = session.execute(
        select(hour.label("hour"), X.variant, func.count(),
               func.sum(case((events.c.clicked == 1, 1), else_=0)))
        .select_from(X).outerjoin(events, events.c.rid == X.request_id)
        .where(X.experiment_id == experiment_id, X.status < 400)
        .group_by("hour", X.variant).order_by("hour", X.variant)
    ).all()
    return [(int(h), str(v), int(n), int(c or 0)) for h, v, n, c in rows]
