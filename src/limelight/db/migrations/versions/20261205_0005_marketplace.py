"""marketplace: full-text index, showcase runtime and metrics, stars, daily usage, a licence per model

Revision ID: 0005_marketplace
Revises: 0004_input
Create Date: 2026-12-05 09:00:00

What the marketplace search reads, kept in step by the database itself, in the same transaction
as each change. Triggers rather than upkeep in the repository: they also follow the writes no
service makes (an org's deletion cascading to its models, a fork's copied version, raw SQL in
maintenance, code paths yet to come), so nothing can silently drift. A later migration that
rebuilds ``models`` (Alembic batch mode) drops the SQLite triggers and must create them again
(``SQLITE_FULL_TEXT``, ``SQLITE_SHOWCASE`` and ``SQLITE_STARS`` below, without their backfill).

* Full text over name, description, card and tags. SQLite: the FTS5 table ``models_fts`` (Porter
  stemming, Unicode case and accent folding); its rowids come from ``models_fts_rowids`` (model
  id -> integer) because ``models`` has a text key and its implicit rowid is not stable (VACUUM
  and table rebuilds may renumber it). PostgreSQL: the stored generated ``tsvector`` column
  ``search_vector`` under a GIN index, computed by the database on every write.
* ``showcase_runtime`` / ``showcase_metrics``: those of the version behind ``production``, else of
  the newest version; refreshed by triggers on ``model_versions`` and ``model_aliases``, so a
  search filters and counts by runtime and metrics without resolving 10,000 aliases per request.
* ``star_count``: rows of ``model_stars`` per model, by triggers on ``model_stars``.
* ``model_usage_daily``: inference requests per model and UTC day, added up by triggers on the
  per-hour rows of ``traffic_rollups`` (which the API processes upsert); days older than
  ``USAGE_DAYS_KEPT`` are dropped as new ones come, so "usage in the last 30 days" sums at most
  that many rows per model.
* A covering index of every column a search filters, counts or orders by (on PostgreSQL the
  INCLUDE columns of an index on the visibility columns), so a search reads neither the cards nor
  the tsvectors nor the dead row versions that star counts and showcase updates leave behind.

Existing models are indexed and given their showcase, and the usage of the kept days is summed
from the existing hourly rollups, here; the downgrade removes all of it.
"""

import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_marketplace'
down_revision: str | None = '0004_input'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every statement below is built from constants only (S608 is silenced where ruff cannot tell).
_TAGS_TEXT = ("(SELECT group_concat(value, ' ') FROM json_each("
              "CASE WHEN json_valid({row}.tags) THEN {row}.tags ELSE '[]' END))")
_FTS_ROWID = "(SELECT rowid FROM models_fts_rowids WHERE model_id = {row}.id)"

SQLITE_FULL_TEXT = [
    "CREATE TABLE models_fts_rowids (rowid INTEGER PRIMARY KEY, model_id VARCHAR(32) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE models_fts USING fts5(name, description, card, tags, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER models_fts_after_insert AFTER INSERT ON models BEGIN "  # noqa: S608
    "INSERT INTO models_fts_rowids (model_id) VALUES (NEW.id); "
    "INSERT INTO models_fts (rowid, name, description, card, tags) VALUES "
    f"(last_insert_rowid(), NEW.name, NEW.description, NEW.card, {_TAGS_TEXT.format(row='NEW')}); END",
    "CREATE TRIGGER models_fts_after_update AFTER UPDATE OF name, description, card, tags ON models BEGIN "  # noqa: S608
    "UPDATE models_fts SET name = NEW.name, description = NEW.description, card = NEW.card, "
    f"tags = {_TAGS_TEXT.format(row='NEW')} WHERE rowid = {_FTS_ROWID.format(row='OLD')}; END",
    "CREATE TRIGGER models_fts_after_delete AFTER DELETE ON models BEGIN "  # noqa: S608
    f"DELETE FROM models_fts WHERE rowid = {_FTS_ROWID.format(row='OLD')}; "
    "DELETE FROM models_fts_rowids WHERE model_id = OLD.id; END",
]
SQLITE_FULL_TEXT_BACKFILL = [
    "INSERT INTO models_fts_rowids (model_id) SELECT id FROM models ORDER BY created_at, id",
    "INSERT INTO models_fts (rowid, name, description, card, tags) SELECT r.rowid, m.name, m.description, m.card, "  # noqa: S608
    f"{_TAGS_TEXT.format(row='m')} FROM models m JOIN models_fts_rowids r ON r.model_id = m.id",
]

# the version a model is shown by: production, else the newest
_SHOWCASE_ID = ("COALESCE((SELECT a.version_id FROM model_aliases a WHERE a.model_id = models.id "
                "AND a.alias = 'production'), (SELECT v2.id FROM model_versions v2 WHERE v2.model_id = models.id "
                "ORDER BY v2.version DESC LIMIT 1))")
_SQLITE_REFRESH = (
    f"UPDATE models SET showcase_runtime = (SELECT v.runtime FROM model_versions v WHERE v.id = {_SHOWCASE_ID}), "  # noqa: S608
    f"showcase_metrics = (SELECT v.metrics FROM model_versions v WHERE v.id = {_SHOWCASE_ID})")
SQLITE_SHOWCASE = [
    f"CREATE TRIGGER models_showcase_version_insert AFTER INSERT ON model_versions BEGIN "
    f"{_SQLITE_REFRESH} WHERE id = NEW.model_id; END",
    f"CREATE TRIGGER models_showcase_version_delete AFTER DELETE ON model_versions BEGIN "
    f"{_SQLITE_REFRESH} WHERE id = OLD.model_id; END",
    f"CREATE TRIGGER models_showcase_alias_insert AFTER INSERT ON model_aliases WHEN NEW.alias = 'production' BEGIN "
    f"{_SQLITE_REFRESH} WHERE id = NEW.model_id; END",
    f"CREATE TRIGGER models_showcase_alias_update AFTER UPDATE OF version_id ON model_aliases "
    f"WHEN NEW.alias = 'production' BEGIN {_SQLITE_REFRESH} WHERE id = NEW.model_id; END",
    f"CREATE TRIGGER models_showcase_alias_delete AFTER DELETE ON model_aliases WHEN OLD.alias = 'production' BEGIN "
    f"{_SQLITE_REFRESH} WHERE id = OLD.model_id; END",
]
SQLITE_STARS = [
    "CREATE TRIGGER models_star_count_insert AFTER INSERT ON model_stars BEGIN "
    "UPDATE models SET star_count = star_count + 1 WHERE id = NEW.model_id; END",
    "CREATE TRIGGER models_star_count_delete AFTER DELETE ON model_stars BEGIN "
    "UPDATE models SET star_count = star_count - 1 WHERE id = OLD.model_id; END",
]
HOUR_S, DAY_S, USAGE_DAYS_KEPT = 3600, 86400, 35
_ADD_USAGE = ("INSERT INTO model_usage_daily (model_id, day_s, requests) VALUES "
              "(NEW.model_id, NEW.start_s - NEW.start_s % 86400, {delta}) "
              "ON CONFLICT (model_id, day_s) DO UPDATE SET requests = model_usage_daily.requests + excluded.requests")
_DROP_OLD_USAGE = (f"DELETE FROM model_usage_daily WHERE model_id = NEW.model_id "  # noqa: S608
                   f"AND day_s < NEW.start_s - {USAGE_DAYS_KEPT * DAY_S}")
SQLITE_USAGE = [
    f"CREATE TRIGGER model_usage_rollup_insert AFTER INSERT ON traffic_rollups WHEN NEW.step_s = {HOUR_S} BEGIN "
    f"{_ADD_USAGE.format(delta='NEW.requests')}; {_DROP_OLD_USAGE}; END",
    f"CREATE TRIGGER model_usage_rollup_update AFTER UPDATE OF requests ON traffic_rollups "
    f"WHEN NEW.step_s = {HOUR_S} AND NEW.requests <> OLD.requests BEGIN "
    f"{_ADD_USAGE.format(delta='NEW.requests - OLD.requests')}; END",
]
SQLITE_LISTING_INDEX = (
    "CREATE INDEX ix_models_listing ON models (id, org_id, visibility, archived, task, licence, showcase_runtime, "
    "created_at, star_count, name, tags, showcase_metrics)")
SQLITE_DROP = [
    "DROP INDEX IF EXISTS ix_models_listing",
    *(f"DROP TRIGGER IF EXISTS {name}" for name in (
        "models_showcase_version_insert", "models_showcase_version_delete", "models_showcase_alias_insert",
        "models_showcase_alias_update", "models_showcase_alias_delete", "models_fts_after_insert",
        "models_fts_after_update", "models_fts_after_delete", "models_star_count_insert", "models_star_count_delete",
        "model_usage_rollup_insert", "model_usage_rollup_update")),
    "DROP TABLE IF EXISTS models_fts",
    "DROP TABLE IF EXISTS models_fts_rowids",
]

# weights: name A, tags B, description C, card D (ts_rank counts A most)
POSTGRES_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(tags::text, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(card, '')), 'D')"
)
_POSTGRES_REFRESH = (
    "UPDATE models SET (showcase_runtime, showcase_metrics) = "  # noqa: S608
    f"(SELECT v.runtime, v.metrics FROM model_versions v WHERE v.id = {_SHOWCASE_ID})")
POSTGRES_SHOWCASE = [
    "CREATE FUNCTION models_showcase_refresh() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE target varchar;\n"
    "BEGIN\n"
    "  IF TG_OP = 'DELETE' THEN target := OLD.model_id; ELSE target := NEW.model_id; END IF;\n"
    f"  {_POSTGRES_REFRESH} WHERE id = target;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER models_showcase_versions AFTER INSERT OR DELETE ON model_versions "
    "FOR EACH ROW EXECUTE FUNCTION models_showcase_refresh()",
    "CREATE TRIGGER models_showcase_alias_insert AFTER INSERT ON model_aliases "
    "FOR EACH ROW WHEN (NEW.alias = 'production') EXECUTE FUNCTION models_showcase_refresh()",
    "CREATE TRIGGER models_showcase_alias_update AFTER UPDATE OF version_id ON model_aliases "
    "FOR EACH ROW WHEN (NEW.alias = 'production') EXECUTE FUNCTION models_showcase_refresh()",
    "CREATE TRIGGER models_showcase_alias_delete AFTER DELETE ON model_aliases "
    "FOR EACH ROW WHEN (OLD.alias = 'production') EXECUTE FUNCTION models_showcase_refresh()",
]
POSTGRES_STARS = [
    "CREATE FUNCTION models_star_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN UPDATE models SET star_count = star_count + 1 WHERE id = NEW.model_id;\n"
    "  ELSE UPDATE models SET star_count = star_count - 1 WHERE id = OLD.model_id; END IF;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER models_star_count AFTER INSERT OR DELETE ON model_stars "
    "FOR EACH ROW EXECUTE FUNCTION models_star_count()",
]
POSTGRES_USAGE = [
    "CREATE FUNCTION model_usage_from_rollups() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    f"    {_ADD_USAGE.format(delta='NEW.requests')};\n"
    f"    {_DROP_OLD_USAGE};\n"
    "  ELSIF NEW.requests <> OLD.requests THEN\n"
    f"    {_ADD_USAGE.format(delta='NEW.requests - OLD.requests')};\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER model_usage_from_rollups AFTER INSERT OR UPDATE OF requests ON traffic_rollups "
    f"FOR EACH ROW WHEN (NEW.step_s = {HOUR_S}) EXECUTE FUNCTION model_usage_from_rollups()",
]
_STAR_BACKFILL = "UPDATE models SET star_count = (SELECT count(*) FROM model_stars s WHERE s.model_id = models.id)"


POSTGRES_LISTING_INDEX = (
    "CREATE INDEX ix_models_listing ON models (archived, visibility, org_id) INCLUDE (id, name, task, licence, "
    "showcase_runtime, created_at, star_count, tags, showcase_metrics)")


def _usage_backfill() -> str:
    since_s = int(time.time()) // DAY_S * DAY_S - USAGE_DAYS_KEPT * DAY_S
    return ("INSERT INTO model_usage_daily (model_id, day_s, requests) SELECT model_id, start_s - start_s % 86400, "  # noqa: S608
            f"sum(requests) FROM traffic_rollups WHERE step_s = {HOUR_S} AND start_s >= {since_s} "
            "GROUP BY model_id, start_s - start_s % 86400")


def upgrade() -> None:
    op.add_column('models', sa.Column('licence', sa.String(length=64), nullable=True))
    op.add_column('models', sa.Column('showcase_runtime', sa.String(length=32), nullable=True))
    op.add_column('models', sa.Column('showcase_metrics', sa.JSON(), nullable=True))
    op.add_column('models', sa.Column('star_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table('model_stars',
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_model_stars_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_model_stars_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'user_id', name=op.f('pk_model_stars'))
    )
    op.create_index(op.f('ix_model_stars_user_id'), 'model_stars', ['user_id'], unique=False)
    op.create_table('model_usage_daily',
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('day_s', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_model_usage_daily_model_id_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'day_s', name=op.f('pk_model_usage_daily')),
    sqlite_with_rowid=False,
    )
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute(f"ALTER TABLE models ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({POSTGRES_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_models_search_vector ON models USING gin (search_vector)")
        statements = [*POSTGRES_SHOWCASE, _POSTGRES_REFRESH, *POSTGRES_STARS, *POSTGRES_USAGE, POSTGRES_LISTING_INDEX]
    else:
        statements = [*SQLITE_FULL_TEXT, *SQLITE_FULL_TEXT_BACKFILL, *SQLITE_SHOWCASE, _SQLITE_REFRESH,
                      *SQLITE_STARS, *SQLITE_USAGE, SQLITE_LISTING_INDEX]
    statements += [_STAR_BACKFILL, _usage_backfill()]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for trigger, table in (("models_showcase_versions", "model_versions"),
                               ("models_showcase_alias_insert", "model_aliases"),
                               ("models_showcase_alias_update", "model_aliases"),
                               ("models_showcase_alias_delete", "model_aliases"),
                               ("models_star_count", "model_stars"),
                               ("model_usage_from_rollups", "traffic_rollups")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in ("models_showcase_refresh", "models_star_count", "model_usage_from_rollups"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute("DROP INDEX IF EXISTS ix_models_search_vector")
        op.execute("DROP INDEX IF EXISTS ix_models_listing")
        for column in ('search_vector', 'star_count', 'showcase_metrics', 'showcase_runtime', 'licence'):
            op.drop_column('models', column)
    else:
        for statement in SQLITE_DROP:
            op.execute(statement)
        # ALTER TABLE DROP COLUMN, never a batch rebuild: with foreign keys on, dropping the old
        # ``models`` table would cascade to every version, alias and deployment
        for column in ('star_count', 'showcase_metrics', 'showcase_runtime', 'licence'):
            op.execute(f"ALTER TABLE models DROP COLUMN {column}")
    op.drop_table('model_usage_daily')
    op.drop_index(op.f('ix_model_stars_user_id'), table_name='model_stars')
    op.drop_table('model_stars')
