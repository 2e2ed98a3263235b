"""search generation: a counter the database bumps on every change a marketplace search could see

Revision ID: 0006_search_generation
Revises: 0005_marketplace
Create Date: 2026-12-05 13:00:00

Counting facets and ranking every match of a broad search costs tens of milliseconds on 10,000
models, and most searches repeat (the same browse, the same popular words). The API processes
keep those results in memory under the value of ``marketplace_generation``, which the database
itself bumps on any write to ``models`` (which also follows versions, aliases and stars, because
their triggers update the model row) and on renaming an org; a cached result is only ever used
at the generation it was computed at, so it is never stale, whichever process wrote.

* SQLite: writes are serialised, so plain row triggers update the one row.
* PostgreSQL: deferred constraint triggers, so the counter's row lock is the last one a writing
  transaction takes (at commit) and two writers can never wait on each other holding it.

Tables whose rows change what a caller may see (shares of private models) add their own trigger
(``limelight.db.generation_triggers.bump_on``). A later migration that rebuilds ``models`` or ``orgs`` in batch mode drops the
SQLite triggers and must create them again.
"""

from collections.abc import Sequence

from alembic import op

from limelight.db.generation_triggers import BUMP, bump_on, drop_bumps

revision: str = '0006_search_generation'
down_revision: str | None = '0005_marketplace'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WATCHED = {"models": ("INSERT", "UPDATE", "DELETE"), "orgs": ("UPDATE OF name",)}


def upgrade() -> None:
    op.execute("CREATE TABLE marketplace_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL)")
    op.execute("INSERT INTO marketplace_generation (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION bump_search_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {BUMP}; RETURN NULL; END $$")
    for table, events in _WATCHED.items():
        bump_on(table, events)


def downgrade() -> None:
    for table, events in _WATCHED.items():
        drop_bumps(table, events)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bump_search_generation()")
    op.execute("DROP TABLE marketplace_generation")
