"""Alembic environment: runs against the URL (or connection) the caller put on the config."""

from __future__ import annotations

from alembic import context

import limelight.db.models  # noqa: F401  (registers every table on the metadata)
from limelight.db.base import Base
from limelight.db.session import open_database

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    database = open_database(config.get_main_option("sqlalchemy.url") or "")
    with database.write_engine.connect() as conn:
        _run(conn)
    database.dispose()
