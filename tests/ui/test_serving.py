"""Pages over served models: the predict playground and the monitoring charts (real inference calls)."""

from __future__ import annotations

import time
from contextlib import closing

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.ui.browser import screenshot, sign_in
from tests.ui.setup_api import create_key, session_client

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def churn(ui_server: LiveServer, studio: tuple[str, str]) -> tuple[str, str]:
    """(org, predict key) with the trained LightGBM model ``churn`` in production."""
    org, _ = studio
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        return org, create_key(api, org, ["read", "predict"])


def _predict(server: LiveServer, org: str, key: str, times: int) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for _ in range(times):
            answer = client.post(f"/v1/models/{org}/churn:predict", json={"inputs": [[0.1, 0.2, 0.3, 0.4]]})
            assert answer.status_code == 200, answer.text
        bad = client.post(f"/v1/models/{org}/churn:predict", json={"inputs": [[1.0]]})  # wrong width: an error
        assert bad.status_code >= 400


def test_predict_playground_answers_like_the_api(pages, ui_server, churn):
    org, _ = churn
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/playground/churn")
    expect(page.get_by_label("Request body (JSON)")).to_have_value('{\n  "inputs": [\n    [\n      0.0,\n      0.0,\n      0.0,\n      0.0\n    ]\n  ]\n}')
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#predict-status")).to_have_text("Answered by version 1.")
    expect(page.locator("#predict-output")).to_contain_text('"outputs"')
    expect(page.locator("#snippet-curl")).to_contain_text(f"/v1/models/{org}/churn:predict")
    expect(page.locator("#snippet-python")).to_contain_text("from limelight.client import Client")
    expect(page.locator("#snippet-python")).to_contain_text(f'client.predict("{org}/churn", inputs=')


def _stored_requests(server: LiveServer, org: str, key: str, at_least: int) -> int:
    """The model's request count once the rollups hold ``at_least`` (each process flushes every 0.2 s)."""
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        while True:
            stored = client.get(f"/api/v1/orgs/{org}/monitoring/models/churn").json()["stats"]["requests"]
            if stored >= at_least or time.monotonic() > deadline:
                return int(stored)
            time.sleep(0.1)


def test_monitoring_charts_show_the_traffic(pages, ui_server, churn):
    org, key = churn
    _predict(ui_server, org, key, 12)
    _stored_requests(ui_server, org, key, 13)
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/monitoring/churn")
    requests, errors = page.locator("#monitor-requests"), page.locator("#monitor-errors")
    expect(requests).not_to_have_text("0")
    before = int(requests.inner_text()), int(errors.inner_text())
    assert before[0] >= 13 and before[1] >= 1
    _predict(ui_server, org, key, 8)
    assert _stored_requests(ui_server, org, key, before[0] + 9) == before[0] + 9
    page.goto("/monitoring/churn")
    expect(requests).to_have_text(str(before[0] + 9))  # 8 answered + 1 refused
    expect(errors).to_have_text(str(before[1] + 1))
    charts = page.locator("svg.line-chart")
    expect(charts).to_have_count(3)
    rate_line = charts.nth(0).locator("polyline.series")
    expect(rate_line.first).to_be_attached()
    assert len(rate_line.first.get_attribute("points").split()) == 60  # one point per minute of the hour
    assert charts.nth(1).locator("polyline.series.s2").count() >= 1  # p99 drawn next to p50
    screenshot(page, "desktop-06-monitoring")
    page.goto("/")
    expect(page.locator("#requests-last-hour")).to_have_text(str(before[0] + 9))
    expect(page.locator("#org-traffic svg.line-chart")).to_have_count(1)
