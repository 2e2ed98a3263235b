"""Fixtures of the console tests: one real server, Debian's Chromium, pages that fail on console errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from tests.support.factories import tabular_csv
from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.ui.browser import SCREENSHOTS, TIMEOUT_MS, VIEWPORTS, ConsoleWatch
from tests.ui.data import audience_csv, catalog_csv
from tests.ui.setup_api import make_org, session_client, train, upload

USER_PASSWORD = "console-test-password"


@pytest.fixture(scope="session")
def ui_server(sqlite_server: LiveServer) -> LiveServer:
    """The shared SQLite-backed server (tests/conftest.py); every test here works in its own new org."""
    return sqlite_server


class Pages:
    """Opens pages in fresh browser contexts; each page's console is watched until the test ends."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.watches: list[ConsoleWatch] = []

    def new(self, viewport: str = "desktop") -> tuple[Any, ConsoleWatch]:
        context = self.browser.new_context(base_url=self.base_url, **VIEWPORTS[viewport])
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        watch = ConsoleWatch()
        watch.attach(page)
        self.watches.append(watch)
        return page, watch

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, ui_server: LiveServer) -> Iterator[Pages]:
    opened = Pages(browser, ui_server.url)
    try:
        yield opened
        for watch in opened.watches:
            watch.assert_clean()
    finally:
        opened.close()


@pytest.fixture(scope="session")
def admin(ui_server: LiveServer) -> Iterator[httpx.Client]:
    with ui_server.client() as client:
        yield client


@pytest.fixture
def new_org(admin: httpx.Client) -> Callable[[], str]:
    """A fresh organization owned by the admin (tests stay independent of each other)."""
    return lambda: make_org(admin)


@pytest.fixture
def new_member(admin: httpx.Client) -> Callable[[str, str], str]:
    """A new user with ``role`` in ``org``; signs in with USER_PASSWORD."""

    def create(org: str, role: str) -> str:
        username = f"user-{uuid.uuid4().hex[:8]}"
        with httpx.Client(base_url=str(admin.base_url), timeout=30) as session:  # the admin, signed in to ``org``
            login = session.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                              "org": org})
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            made = session.post("/api/v1/users", json={"username": username, "password": USER_PASSWORD}, headers=headers)
            assert made.status_code == 201, made.text
            added = session.post(f"/api/v1/orgs/{org}/members", json={"username": username, "role": role},
                                 headers=headers)
            assert added.status_code == 201, added.text
        return username

    return create


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"console screenshots: {SCREENSHOTS}")


@pytest.fixture
def org_api(ui_server: LiveServer) -> Iterator[Callable[[str], httpx.Client]]:
    """An API client signed in as the admin inside ``org`` (session cookie + CSRF header)."""
    clients: list[httpx.Client] = []

    def open_for(org: str) -> httpx.Client:
        clients.append(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org))
        return clients[-1]

    yield open_for
    for client in clients:
        client.close()


STUDIO_CARD = "# Churn\n\nPredicts who cancels next month.\n\n| metric | value |\n|---|---|\n| accuracy | 0.9 |\n"


@pytest.fixture(scope="session")
def studio(ui_server: LiveServer, admin: httpx.Client) -> tuple[str, str]:
    """(org, job id): datasets of three kinds and a LightGBM model ``churn`` (trained, in production, with a
    card). Shared by the page tests; tests that change it only add to it (traffic, visibility)."""
    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        upload(api, org, "ratings", "interactions", audience_csv())
        upload(api, org, "catalog", "items", catalog_csv())
        upload(api, org, "churn", "tabular", tabular_csv())
        job = train(api, org, "classify/lightgbm", "churn", "churn", promote="production")
        assert api.patch(f"/api/v1/orgs/{org}/models/churn", json={"card": STUDIO_CARD, "tags": ["retention"]}).status_code == 200
    return org, job["id"]


