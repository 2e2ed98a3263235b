"""All SQL of the marketplace search: the models a caller may see, filtered, counted by facet,
ordered and paged by keyset.

A model's runtime and metrics are those of its *showcase* version (the one behind ``production``,
else the newest) and its star count, all kept on the model row by database triggers (migration
0005). Usage is the sum of its daily request totals (``model_usage_daily``, added up from the
per-hour traffic rollups by triggers) since the day asked for.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from limelight.db.models import Model, ModelShare, ModelUsageDaily, Org
from limelight.marketplace.cache import SearchCache, generation
from limelight.marketplace.fulltext import TextMatch, text_match
from limelight.marketplace.query import MetricRange, TextQuery

_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Filters:
    """What a result must satisfy, beyond being visible to the caller and not archived."""

    text: TextQuery | None = None
    task: str | None = None
    runtime: str | None = None
    tags: tuple[str, ...] = ()
    org: str | None = None
    licence: str | None = None
    metrics: tuple[MetricRange, ...] = ()


@dataclass(frozen=True)
class Hit:
    model: Model
    org: str
    key: Any  # the value of the sort key (relevance, stars, usage, created_at) for the cursor


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    facets: dict[str, dict[str, int]] | None  # facet -> value -> matches; None when not counted


def visible_to(viewer_org_id: str) -> ColumnElement[bool]:
    """The one visibility rule: the viewer's org's models, public ones, and those shared with it to read."""
    read_shares = select(ModelShare.model_id).where(ModelShare.org_id == viewer_org_id, ModelShare.access == "read")
    return or_(Model.org_id == viewer_org_id, Model.visibility == "public", Model.id.in_(read_shares))


def forks_of(session: Session, viewer_org_id: str, parent_ref: str, limit: int = 100) -> list[tuple[Model, str]]:
    """The forks of ``parent_ref`` ("org/name") the viewer may see, with their org's name, newest first."""
    rows = session.execute(
        select(Model, Org.name).join(Org, Org.id == Model.org_id)
        .where(Model.forked_from.startswith(parent_ref + "@", autoescape=True), visible_to(viewer_org_id),
               Model.archived.is_(False))
        .order_by(Model.created_at.desc()).limit(limit)
    ).all()
    return [(model, org) for model, org in rows]


class _Scope:
    """The models one search may return: visible to the caller, not archived, passing every filter."""

    def __init__(self, session: Session, viewer_org_id: str, filters: Filters) -> None:
        self.dialect = session.get_bind().dialect.name
        self.viewer_org_id = viewer_org_id
        self.filters = filters
        self.text: TextMatch | None = text_match(self.dialect, filters.text) if filters.text else None

    @property
    def score(self) -> ColumnElement[Any]:
        return self.text.score if self.text is not None else literal(0.0, Float)

    def select(self, *columns: Any, with_org: bool = False) -> Select[Any]:
        statement = select(*columns).select_from(Model)
        if with_org:
            statement = statement.join(Org, Org.id == Model.org_id)
        if self.text is not None and self.text.join is not None:
            statement = statement.join(self.text.join, self.text.join.c.model_id == Model.id)
        return statement.where(*self._conditions())

    def _conditions(self) -> Iterator[ColumnElement[bool]]:
        f = self.filters
        yield visible_to(self.viewer_org_id)
        yield Model.archived.is_(False)
        if f.task:
            yield Model.task == f.task
        if f.org:
            yield Model.org_id == select(Org.id).where(Org.name == f.org).scalar_subquery()
        if f.licence:
            yield Model.licence == f.licence
        if f.runtime:
            yield Model.showcase_runtime == f.runtime
        for tag in f.tags:
            values = _json_strings(self.dialect, Model.tags)
            yield select(literal(1)).select_from(values).where(values.c.value == tag).exists()
        for wanted in f.metrics:
            yield _COMPARE[wanted.operator](_metric(self.dialect, Model.showcase_metrics, wanted.metric), wanted.value)
        if self.text is not None:
            yield from self.text.conditions


def _json_strings(dialect: str, array: Any) -> Any:
    """The elements of a JSON array column as a table with one text column ``value`` (empty if not an array)."""
    if dialect == "postgresql":
        safe = case((func.json_typeof(array) == "array", array), else_=literal_column("'[]'::json"))
        return func.json_array_elements_text(safe).table_valued("value")
    safe = case((func.json_valid(array) == 1, array), else_=literal("[]"))
    return func.json_each(safe).table_valued("value")


def _metric(dialect: str, metrics: Any, name: str) -> ColumnElement[Any]:
    """The numeric value of ``metrics[name]``; NULL when absent or not a number (never an error)."""
    if dialect == "postgresql":
        value = func.json_extract_path(metrics, literal(name, String))
        return case((func.json_typeof(value) == "number",
                     func.json_extract_path_text(metrics, literal(name, String)).cast(Float)))
    path = literal('$."' + name + '"', String)  # name is [A-Za-z0-9_@.:/-]: no quote can end the label
    return case((func.json_type(metrics, path).in_(("integer", "real")), func.json_extract(metrics, path)))


def _without_jit(session: Session) -> None:
    """PostgreSQL would JIT-compile a search the planner overestimates (it guesses 100 tags per
    model): 25 ms of compiling for a 10 ms query. For this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


# ---- pages and counts ----------------------------------------------------------------------

def _sort_key(scope: _Scope, sort: str, usage_since_s: int) -> tuple[ColumnElement[Any], Subquery | None]:
    """The expression a sort orders by (descending), and the subquery it needs joined on model_id."""
    if sort == "relevance":
        return scope.score, None
    if sort == "newest":
        return Model.created_at.expression, None
    if sort == "stars":
        return Model.star_count.expression, None
    if sort == "usage":
        usage = (select(ModelUsageDaily.model_id, func.sum(ModelUsageDaily.requests).label("n"))
                 .where(ModelUsageDaily.day_s >= usage_since_s).group_by(ModelUsageDaily.model_id).subquery("usage"))
        return func.coalesce(usage.c.n, 0), usage
    return literal(0, Float), None  # "name": (org, name) only


USAGE_PAGE_TTL_S = 60
Row = tuple[str, str, str, Any]  # (model id, org name, name, sort key)
Counts = dict[str, dict[str, int]]


def search(session: Session, viewer_org_id: str, filters: Filters, *, sort: str,
           after: tuple[Any, str, str] | None, limit: int, usage_since_s: int = 0, counted: bool = False,
           cache: SearchCache | None = None, now_s: float | None = None) -> Found:
    """Up to ``limit`` matches in ``sort`` order (key descending, then org and name ascending), after
    the keyset ``after`` = (key, org, name) of the previous page's last match. With ``counted``, also
    the facet counts over every match, from the same statement: the matches are found once.

    With a ``cache``, what was computed at the current search generation is reused: the counts, and
    the page's rows (ordered by usage, only within the same minute: usage changes with traffic)."""
    scope = _Scope(session, viewer_org_id, filters)
    _without_jit(session)
    if cache is None:
        rows, counts = _rows(session, scope, sort, after, limit, usage_since_s, counted=counted)
        return Found(_hits(session, rows), counts)
    at = generation(session)
    counts_key = (at, "counts", viewer_org_id, filters)
    # usage changes with traffic, not with the generation: a usage-ordered page is kept for the
    # rest of the current minute (its order lags traffic by at most USAGE_PAGE_TTL_S)
    minute = int((time.time() if now_s is None else now_s) // USAGE_PAGE_TTL_S)
    freshness = (usage_since_s, minute) if sort == "usage" else None
    page_key = (at, "page", viewer_org_id, filters, sort, after, limit, freshness)
    page = cache.get(page_key)
    counts = cache.get(counts_key) if counted else None
    if page is None or (counted and counts is None):
        rows, computed = _rows(session, scope, sort, after, limit, usage_since_s, counted=counted and counts is None)
        if computed is not None:
            counts = cache.put(counts_key, computed)
        page = cache.put(page_key, rows)
    return Found(_hits(session, page), counts)


def _rows(session: Session, scope: _Scope, sort: str, after: tuple[Any, str, str] | None, limit: int,
          usage_since_s: int, *, counted: bool) -> tuple[list[Row], Counts | None]:
    key, joined = _sort_key(scope, sort, usage_since_s)
    facet_columns = (Model.task, Model.showcase_runtime.label("runtime"), Model.licence, Model.tags) if counted else ()
    matches = scope.select(Model.id, Model.org_id, Model.name, key.label("key"), *facet_columns)
    if joined is not None:
        matches = matches.outerjoin(joined, joined.c.model_id == Model.id)
    if not counted:
        ordered = session.execute(_ordered(matches.subquery("matches"), after, limit))
        return [(row.id, row.org, row.name, row.key) for row in ordered], None
    found = matches.cte("found")
    page = _ordered(found, after, limit).subquery("page")
    statement = union_all(
        select(literal("page"), page.c.id, page.c.org, page.c.name, page.c.key, null()),
        *_facet_arms(scope.dialect, found))
    rows: list[Row] = []
    counts: Counts = {name: {} for name in ("task", "runtime", "org", "tag", "licence")}
    for kind, value, org, name, key_value, count in session.execute(statement):
        if kind == "page":
            rows.append((value, org, name, key_value))
        else:
            counts[str(kind)][str(value)] = int(count)
    rows.sort(key=lambda row: (row[1], row[2]))
    rows.sort(key=lambda row: row[3], reverse=True)  # stable: key descending, then org and name
    return rows, counts


def _ordered(matches: Any, after: tuple[Any, str, str] | None, limit: int) -> Select[Any]:
    """(id, org name, name, key) of the page: keyset after ``after``, key descending, org, name."""
    key = matches.c.key
    statement = select(matches.c.id, Org.name.label("org"), matches.c.name, key).join(Org, Org.id == matches.c.org_id)
    if after is not None:
        value, org, name = after
        statement = statement.where(or_(key < value, and_(key == value, or_(
            Org.name > org, and_(Org.name == org, matches.c.name > name)))))
    return statement.order_by(key.desc(), Org.name, matches.c.name).limit(limit)


def _facet_arms(dialect: str, found: Any) -> list[Select[Any]]:
    """(facet, value, -, -, -, count) rows over every match, one GROUP BY per facet."""
    tags = _json_strings(dialect, found.c.tags)
    orgs = select(found.c.org_id, func.count().label("n")).group_by(found.c.org_id).subquery("org_counts")
    blank = (null(), null(), null())
    return [
        select(literal("task"), found.c.task, *blank, func.count()).group_by(found.c.task),
        select(literal("runtime"), found.c.runtime, *blank, func.count()).where(found.c.runtime.is_not(None))
        .group_by(found.c.runtime),
        # counted by id, named after: one name lookup per org, not per model
        select(literal("org"), Org.name, *blank, orgs.c.n).join(Org, Org.id == orgs.c.org_id),
        select(literal("licence"), found.c.licence, *blank, func.count())
        .where(found.c.licence.is_not(None), found.c.licence != "").group_by(found.c.licence),
        # tags are kept without repeats (ModelCreate and ModelUpdate), so rows count models
        select(literal("tag"), tags.c.value, *blank, func.count()).select_from(found).join(tags, true())
        .group_by(tags.c.value),
    ]


def _hits(session: Session, rows: list[Row]) -> list[Hit]:
    """The page's models, loaded whole only now (the ordering read narrow rows)."""
    models = {m.id: m for m in session.scalars(select(Model).where(Model.id.in_([row[0] for row in rows])))}
    return [Hit(models[model_id], str(org), _plain(value)) for model_id, org, _, value in rows]


def _plain(value: Any) -> Any:
    """A sort key as the cursor stores it: numbers as int or float, times as they are."""
    if isinstance(value, datetime):
        return value
    number = float(value or 0)
    return int(number) if number.is_integer() and not isinstance(value, float) else number

