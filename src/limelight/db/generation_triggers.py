"""Triggers that bump ``marketplace_generation`` (migration 0006), shared by the migrations that
watch a table whose rows change what a marketplace search could see.

Kept outside the migration files because later migrations watch their own tables (shares) with
the same triggers; the SQL here must therefore never change meaning once released.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

BUMP = "UPDATE marketplace_generation SET value = value + 1 WHERE id = 1"


def _name(table: str, event: str) -> str:
    return f"{table}_search_generation_{event.split()[0].lower()}"


def bump_on(table: str, events: Sequence[str]) -> None:
    """Triggers that bump the search generation on each of ``events`` (e.g. ``"UPDATE OF name"``) of ``table``.

    PostgreSQL: deferred constraint triggers, so the counter's row lock is taken at commit (see 0006)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in events:
        if postgres:
            op.execute(f"CREATE CONSTRAINT TRIGGER {_name(table, event)} AFTER {event} ON {table} "
                       "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_search_generation()")
        else:
            op.execute(f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} BEGIN {BUMP}; END")


def drop_bumps(table: str, events: Sequence[str]) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in events:
        op.execute(f"DROP TRIGGER IF EXISTS {_name(table, event)}" + (f" ON {table}" if postgres else ""))
