"""Migration 0005 on a database that already has models (SQLite and PostgreSQL): the upgrade
indexes them, gives them their showcase and sums their usage; the downgrade takes it all away and
leaves every model, version and alias in place; the upgrade runs again after it."""

from __future__ import annotations

import json
import time
from typing import Any

from alembic import command
from sqlalchemy import inspect, text

from limelight.db.migrate import alembic_config, upgrade
from limelight.db.session import open_database
from limelight.marketplace import repository
from limelight.marketplace.query import parse_text

BEFORE = "0004_input"
HOUR_S = 3600


def _downgrade(database: Any, revision: str) -> None:
    config = alembic_config(database.url)
    with database.write_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _seed_before(database: Any) -> dict[str, str]:
    """An org with two models (one with two versions and production on v1) and some hourly traffic,
    written with the schema of 0004."""
    ids = {"org": "o" * 32, "model": "m" * 32, "other": "n" * 32, "v1": "a" * 32, "v2": "b" * 32}
    hour = int(time.time()) // HOUR_S * HOUR_S
    rows = [
        ("INSERT INTO orgs (id, name, display_name, created_at) VALUES (:org, 'acme', 'Acme', :now)", {}),
        ("INSERT INTO models (id, org_id, name, task, description, tags, visibility, card, archived, latest_version, "
         "needs_retraining, retrain_policy, created_at, updated_at) VALUES (:model, :org, 'anime-recs', 'recommend', "
         "'Recommends anime', :tags, 'public', '# Card', false, 2, false, '{}', :now, :now)",
         {"tags": json.dumps(["anime", "sci-fi"])}),
        ("INSERT INTO models (id, org_id, name, task, description, tags, visibility, card, archived, latest_version, "
         "needs_retraining, retrain_policy, created_at, updated_at) VALUES (:other, :org, 'churn', 'classify', "
         "'who leaves', '[]', 'private', '', false, 0, false, '{}', :now, :now)", {}),
        *((f"INSERT INTO model_versions (id, model_id, version, blob_sha256, size_bytes, format, runtime, signature, "
           f"params, metrics, description, archived, created_by, created_at) VALUES (:{key}, :model, {n}, :sha, 1, "
           f"'json', '{runtime}', '{{}}', '{{}}', :metrics, '', false, 'ann', :now)",
           {"sha": "0" * 64, "metrics": json.dumps({"ndcg@10": 0.1 * n})})
          for key, n, runtime in (("v1", 1, "sklearn"), ("v2", 2, "lightgbm"))),
        ("INSERT INTO model_aliases (model_id, alias, version_id, updated_at) VALUES (:model, 'production', :v1, :now)",
         {}),
        *((f"INSERT INTO traffic_rollups (org_id, step_s, start_s, model_id, version, requests, client_errors, "
           f"server_errors, latency_sum_ms, {', '.join(_BUCKETS)}) VALUES (:org, {step}, {hour - ago}, :model, 1, 5, "
           f"0, 0, 5.0, {', '.join('0' for _ in _BUCKETS)})", {})
          for step, ago in ((HOUR_S, 0), (HOUR_S, 2 * HOUR_S), (60, 0))),
    ]
    with database.write_engine.begin() as conn:
        for sql, params in rows:
            conn.execute(text(sql), {**ids, "now": "2026-12-01 10:00:00", **params})
    return ids


_BUCKETS = ("le_1ms", "le_2_5ms", "le_5ms", "le_10ms", "le_25ms", "le_50ms", "le_100ms", "le_250ms", "le_500ms",
            "le_1s", "le_2_5s", "le_5s", "le_10s", "le_30s", "le_inf")


def _counts(database: Any) -> tuple[int, int, int]:
    with database.read_engine.connect() as conn:
        return tuple(int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # type: ignore[return-value]
                     for table in ("models", "model_versions", "model_aliases"))


def test_upgrade_indexes_existing_models_and_downgrade_leaves_them(db_url):
    database = open_database(db_url)
    try:
        upgrade(database, BEFORE)
        ids = _seed_before(database)
        upgrade(database)
        with database.transaction(write=False) as session:
            found = repository.search(session, ids["org"], repository.Filters(text=parse_text("anime")),
                                      sort="relevance", after=None, limit=10).hits
            browse = repository.search(session, ids["org"], repository.Filters(), sort="newest", after=None, limit=10,
                                       counted=True)
            facets = browse.facets
            usage = repository.search(session, ids["org"], repository.Filters(), sort="usage", after=None, limit=10,
                                      usage_since_s=0).hits
            row = session.execute(text("SELECT showcase_runtime, star_count, licence FROM models WHERE id = :id"),
                                  {"id": ids["model"]}).one()
            daily = session.execute(text("SELECT sum(requests) FROM model_usage_daily")).scalar_one()
        assert [hit.model.name for hit in found] == ["anime-recs"] and facets is not None
        assert facets["runtime"] == {"sklearn": 1}  # production is v1, not the newer v2
        assert facets["tag"] == {"anime": 1, "sci-fi": 1} and facets["task"] == {"classify": 1, "recommend": 1}
        assert [(hit.model.name, hit.key) for hit in usage] == [("anime-recs", 10), ("churn", 0)]
        assert tuple(row) == ("sklearn", 0, None) and int(daily) == 10  # hourly rows only, not the minute one

        before = _counts(database)
        _downgrade(database, BEFORE)
        with database.read_engine.connect() as conn:
            inspector = inspect(conn)
            tables = set(inspector.get_table_names())
            columns = {c["name"] for c in inspector.get_columns("models")}
        assert not {"model_stars", "model_usage_daily", "models_fts", "models_fts_rowids"} & tables
        assert not {"licence", "showcase_runtime", "showcase_metrics", "star_count", "search_vector"} & columns
        assert _counts(database) == before == (2, 2, 1)  # nothing cascaded away with a dropped column

        upgrade(database)
        with database.transaction(write=False) as session:
            again = repository.search(session, ids["org"], repository.Filters(text=parse_text("recommends")),
                                      sort="relevance", after=None, limit=10).hits
        assert [hit.model.name for hit in again] == ["anime-recs"]
    finally:
        database.dispose()
