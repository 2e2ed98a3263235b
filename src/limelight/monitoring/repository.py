"""All SQL of the traffic rollups: the additive upsert, pruning, and the per-org reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from limelight.db import upsert
from limelight.db.models import Deployment, Model, ModelAlias, ModelVersion, Org, ShownItemWeek, TrafficRollup
from limelight.db.models.monitoring import COUNT_COLUMNS

_KEY = ("org_id", "step_s", "start_s", "model_id", "version")
_TABLE = TrafficRollup.__table__


def model_ids(session: Session, refs: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``org/name`` -> (org id, model id) for the refs that name an existing model."""
    wanted = {tuple(ref.split("/", 1)) for ref in refs if "/" in ref}
    if not wanted:
        return {}
    rows = session.execute(
        select(Org.name, Model.name, Model.org_id, Model.id).join(Org, Org.id == Model.org_id)
        .where(Org.name.in_({org for org, _ in wanted}), Model.name.in_({name for _, name in wanted}))
    )
    return {f"{org}/{name}": (org_id, model_id) for org, name, org_id, model_id in rows if (org, name) in wanted}


def add_counts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or add their counts to the stored ones (``rows`` sorted by key)."""
    upsert.add_counts(session, _TABLE, _KEY, COUNT_COLUMNS, rows)  # type: ignore[arg-type]


def prune(session: Session, step_s: int, before_s: int) -> int:
    result = session.execute(delete(TrafficRollup).where(TrafficRollup.step_s == step_s,
                                                         TrafficRollup.start_s < before_s))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def org_models(session: Session, org_id: str) -> list[Row[Any]]:
    """(id, name, task) of every model of the org, by name."""
    return list(session.execute(select(Model.id, Model.name, Model.task).where(Model.org_id == org_id)
                                .order_by(Model.name)))


def model_in_org(session: Session, org_id: str, name: str) -> Row[Any] | None:
    return session.execute(select(Model.id, Model.name, Model.task)
                           .where(Model.org_id == org_id, Model.name == name)).first()


def production_versions(session: Session, org_id: str) -> dict[str, int]:
    rows = session.execute(
        select(ModelAlias.model_id, ModelVersion.version).join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .join(Model, Model.id == ModelAlias.model_id).where(Model.org_id == org_id, ModelAlias.alias == "production")
    )
    return {model_id: int(version) for model_id, version in rows}


def deployment_routes(session: Session, org_id: str, model_id: str | None = None) -> dict[str, list[Any]]:
    query = select(Deployment.model_id, Deployment.routes).join(Model, Model.id == Deployment.model_id) \
        .where(Model.org_id == org_id)
    if model_id is not None:
        query = query.where(Deployment.model_id == model_id)
    return {mid: list(routes or []) for mid, routes in session.execute(query)}


def _sums() -> list[Any]:
    return [func.sum(_TABLE.c[name]).label(name) for name in COUNT_COLUMNS]


def totals_by_model_version(session: Session, org_id: str, step_s: int, since_s: int,
                            until_s: int) -> list[Row[Any]]:
    """(model_id, version, *COUNT_COLUMNS) summed over [since_s, until_s): one row per model version."""
    return list(session.execute(
        select(TrafficRollup.model_id, TrafficRollup.version, *_sums())
        .where(TrafficRollup.org_id == org_id, TrafficRollup.step_s == step_s, TrafficRollup.start_s >= since_s,
               TrafficRollup.start_s < until_s)
        .group_by(TrafficRollup.model_id, TrafficRollup.version)
    ))


SERIES_COLUMNS = ("requests", "client_errors", "server_errors")


def org_series(session: Session, org_id: str, step_s: int, since_s: int) -> list[Row[Any]]:
    """(start_s, *SERIES_COLUMNS) of every model of the org together, oldest first (no latency: an
    org's models have unrelated latencies, and summing fewer columns keeps long windows fast)."""
    return list(session.execute(
        select(TrafficRollup.start_s, *[func.sum(_TABLE.c[name]).label(name) for name in SERIES_COLUMNS])
        .where(TrafficRollup.org_id == org_id, TrafficRollup.step_s == step_s, TrafficRollup.start_s >= since_s)
        .group_by(TrafficRollup.start_s).order_by(TrafficRollup.start_s)
    ))


def model_series(session: Session, model_id: str, step_s: int, since_s: int) -> list[Row[Any]]:
    """(start_s, version, *COUNT_COLUMNS) of one model, oldest first."""
    columns = [_TABLE.c[name] for name in COUNT_COLUMNS]
    return list(session.execute(
        select(TrafficRollup.start_s, TrafficRollup.version, *columns)
        .where(TrafficRollup.model_id == model_id, TrafficRollup.step_s == step_s, TrafficRollup.start_s >= since_s)
        .order_by(TrafficRollup.start_s, TrafficRollup.version)
    ))


def prune_shown_items(session: Session, before_s: int) -> int:
    result = session.execute(delete(ShownItemWeek).where(ShownItemWeek.week_s < before_s))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def shown_items(session: Session, model_id: str, since_s: int) -> dict[int, dict[str, int]]:
    """week start -> item -> times shown, for the weeks from ``since_s``."""
    weeks: dict[int, dict[str, int]] = {}
    for week, item, shown in session.execute(
            select(ShownItemWeek.week_s, ShownItemWeek.item_id, ShownItemWeek.shown)
            .where(ShownItemWeek.model_id == model_id, ShownItemWeek.week_s >= since_s)):
        weeks.setdefault(int(week), {})[str(item)] = int(shown)
    return weeks


def catalog_size(session: Session, model_id: str, version: int | None) -> int | None:
    """The catalog size a recommender version recorded in its signature (None for older versions)."""
    query = select(ModelVersion.signature).where(ModelVersion.model_id == model_id)
    query = query.where(ModelVersion.version == version) if version else query.order_by(ModelVersion.version.desc())
    signature = session.scalars(query.limit(1)).first() or {}
    size = signature.get("catalog_size") if isinstance(signature, dict) else None
    return int(size) if isinstance(size, int) and size > 0 else None
