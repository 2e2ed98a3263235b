"""Shared fixtures: databases built from the migrations (SQLite and PostgreSQL) and a real server.

PostgreSQL tests use a fresh schema on 127.0.0.1:5432/test. Where it is unreachable they are
skipped, except under CI=true, where that fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.live_server import LiveServer, start_live_server
from tests.support.postgres import drop_schema, postgres_url_for_schema
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS

BACKENDS = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty metadata database URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_url_for_schema(schema)
    try:
        yield url
    finally:
        drop_schema(schema)


@pytest.fixture
def database(db_url: str):  # type: ignore[no-untyped-def]
    from limelight.db.migrate import upgrade
    from limelight.db.session import open_database

    db = open_database(db_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real `limelight` API on 127.0.0.1 (one per backend per test session), initialised."""
    home = tmp_path_factory.mktemp(f"server-{request.param}")
    schema = None
    if request.param == "postgres":
        schema = f"s_{uuid.uuid4().hex[:12]}"
        db_url = postgres_url_for_schema(schema)
    else:
        db_url = f"sqlite:///{home / 'meta.db'}"
    live = start_live_server(home=home, database_url=db_url)
    try:
        yield live
    finally:
        live.stop()
        if schema:
            drop_schema(schema)


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One SQLite-backed server for tests that don't need to run on both databases."""
    home = tmp_path_factory.mktemp("server-sqlite-only")
    # renewed as often as on the other servers, but a late renewal is forgiven for 6 s, not 1.8: this
    # server runs the suite's long fits (fine-tuning, LoRA) late in a long run on a busy 2-core machine,
    # where one slow SQLite write must not cost a job its lease. Lease expiry itself is tested on `server`.
    live = start_live_server(home=home, database_url=f"sqlite:///{home / 'meta.db'}", LIMELIGHT_WORKER__LEASE_S="6")
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def database_rows():  # type: ignore[no-untyped-def]
    """Run raw SQL against a live server's database (to tamper, expire, or look inside)."""
    from sqlalchemy import text

    from limelight.db.session import open_database

    def run(live: LiveServer, sql: str, **params: object) -> list[tuple[object, ...]]:
        db = open_database(live.env["LIMELIGHT_DATABASE_URL"])
        try:
            with db.transaction() as session:
                result = session.execute(text(sql), params)
                return [tuple(r) for r in result.fetchall()] if result.returns_rows else []
        finally:
            db.dispose()

    return run


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser), one per test module.

    Not one per run: Playwright's sync API keeps an asyncio loop running in the main thread while
    it is open, and every later test that starts a loop of its own (asyncio.run) would fail."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"  # never fetch a browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


