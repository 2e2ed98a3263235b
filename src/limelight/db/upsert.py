"""The additive upsert of counter tables (traffic rollups, usage hours): several processes' counts sum up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def add_counts(session: Session, table: Table, key: Sequence[str], counts: Sequence[str],
               rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or add their ``counts`` columns to the stored row of the same ``key``.

    ``rows`` must be sorted by key, so concurrent flushes lock rows in one order (no deadlock)."""
    if not rows:
        return
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + statement.excluded[name] for name in counts})
    session.execute(statement, list(rows))
