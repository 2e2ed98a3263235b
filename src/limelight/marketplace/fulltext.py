"""Full-text matching of models on each database, behind one function: ``text_match``.

* SQLite: the FTS5 table ``models_fts`` (name, description, card, tags; Porter stemming, Unicode
  case and accent folding), whose rowids map to model ids through ``models_fts_rowids``; relevance
  is ``-bm25()`` with per-column weights.
* PostgreSQL: the generated ``models.search_vector`` (the same four fields weighted A to D, English
  stemming) under a GIN index; relevance is ``ts_rank``.

Both were built by migration 0005, which says how they stay in step with ``models``. User text
never reaches either engine as query syntax: on SQLite each term is one double-quoted FTS5
string (quotes doubled), on PostgreSQL each is given to ``phraseto_tsquery``, which parses none.
Relevance is "higher is better" on both, so the caller orders the same way on either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, String, column, func, literal, literal_column, not_, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.sql.selectable import Subquery

from limelight.db.models import Model
from limelight.marketplace.query import TextQuery

# bm25 weights of the FTS5 columns, in their order: a hit in the name counts most, in the card least
_BM25_WEIGHTS = "10.0, 4.0, 1.0, 6.0"  # name, description, card, tags
_TS_CONFIG = "english"


@dataclass(frozen=True)
class TextMatch:
    """What a text query adds to the search: a subquery to join (SQLite), conditions, a relevance."""

    conditions: list[ColumnElement[bool]]
    score: ColumnElement[Any]
    join: Subquery | None = None  # joined on ``join.c.model_id == Model.id`` when given


def text_match(dialect: str, query: TextQuery) -> TextMatch:
    return _postgres(query) if dialect == "postgresql" else _sqlite(query)


def fts5_string(term: str) -> str:
    """One term as an FTS5 string literal: whatever it holds is text for the tokenizer, never syntax."""
    return '"' + term.replace('"', '""') + '"'


def _sqlite_hits(expression: str, name: str, *, ranked: bool) -> Subquery:
    score = f"-bm25(models_fts, {_BM25_WEIGHTS})" if ranked else "0.0"
    sql = text(f"SELECT r.model_id AS model_id, {score} AS score FROM models_fts "  # noqa: S608 - no user text
               f"JOIN models_fts_rowids r ON r.rowid = models_fts.rowid WHERE models_fts MATCH :{name}")
    return sql.bindparams(**{name: expression}).columns(column("model_id", String), column("score", Float)).subquery(name)


def _sqlite(query: TextQuery) -> TextMatch:
    conditions: list[ColumnElement[bool]] = []
    if query.excluded:
        excluded = _sqlite_hits(" OR ".join(fts5_string(t) for t in query.excluded), "fts_excluded", ranked=False)
        conditions.append(Model.id.not_in(excluded.select().with_only_columns(excluded.c.model_id)))
    if not query.required:
        return TextMatch(conditions, literal(0.0, Float))
    hits = _sqlite_hits(" ".join(fts5_string(t) for t in query.required), "fts_required", ranked=True)
    return TextMatch(conditions, hits.c.score, join=hits)


def _tsquery(terms: tuple[str, ...], operator: str) -> ColumnElement[Any]:
    config: ColumnElement[Any] = literal_column(f"'{_TS_CONFIG}'::regconfig")
    parts: list[ColumnElement[Any]] = [func.phraseto_tsquery(config, literal(term, String)) for term in terms]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op(operator)(part)
    return combined


def _postgres(query: TextQuery) -> TextMatch:
    vector = literal_column("models.search_vector", TSVECTOR)
    conditions: list[ColumnElement[bool]] = []
    if query.excluded:
        conditions.append(not_(vector.op("@@")(_tsquery(query.excluded, "||"))))
    if not query.required:
        return TextMatch(conditions, literal(0.0, Float))
    wanted = _tsquery(query.required, "&&")
    conditions.append(vector.op("@@")(wanted))
    # ts_rank is a real (float4): cast so a cursor's value compares exactly with the next page's
    return TextMatch(conditions, func.ts_rank(vector, wanted).cast(Float))
