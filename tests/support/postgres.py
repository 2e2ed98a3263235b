"""PostgreSQL for tests: a schema per test database, skipped (or failed under CI) when unreachable."""

from __future__ import annotations

import os
from functools import cache

import pytest

PG_BASE = os.environ.get("LIMELIGHT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def _reachable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def require_postgres() -> None:
    problem = _reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI but unreachable: {problem}")
    pytest.skip(f"PostgreSQL unreachable: {problem}")


def postgres_url_for_schema(schema: str) -> str:
    import psycopg

    require_postgres()
    with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_BASE}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
