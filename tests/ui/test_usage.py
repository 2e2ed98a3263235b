"""The usage page in Chromium: the org's totals, per-model table and charts, and the CSV download."""

from __future__ import annotations

import time
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.support.factories import ok, skops_model_bytes
from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import screenshot, sign_in
from tests.ui.setup_api import make_org, session_client

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_org(ui_server, admin):  # type: ignore[no-untyped-def]
    """An org whose model answered two predictions, counted in the stored rollups."""
    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        ok(api.post(f"/api/v1/orgs/{org}/models", json={"name": "scorer", "task": "classify"}))
        ok(api.post(f"/api/v1/orgs/{org}/models/scorer/versions", files={"file": ("m.skops", skops_model_bytes())},
                    data={"meta": '{"runtime": "sklearn"}'}))
        for _ in range(2):
            ok(api.post(f"/v1/models/{org}/scorer:predict", json={"inputs": [[0.1, 0.2, 0.3]]}))
        deadline = time.monotonic() + 10  # rollups are flushed every 0.2 s on the test server
        while ok(api.get(f"/api/v1/orgs/{org}/usage", params={"days": 1}))["periods"][-1]["requests"] < 2:
            assert time.monotonic() < deadline, "the two requests never reached the rollups"
            time.sleep(0.2)
    return org


def test_the_usage_page_shows_the_report_and_downloads_the_csv(ui_server, busy_org, pages):  # type: ignore[no-untyped-def]
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, busy_org)
    page.goto("/usage?days=7")
    expect(page.locator('#usage-totals [data-total="requests"]')).to_have_text("2")
    expect(page.locator(f'#usage-models tr[data-model="{busy_org}/scorer"]')).to_contain_text("2")
    expect(page.locator("figure.chart")).to_have_count(2)
    with page.expect_download() as download:
        page.locator("#usage-csv").click()
    assert download.value.suggested_filename == f"{busy_org}-usage-day.csv"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    screenshot(page, "phone-usage")
