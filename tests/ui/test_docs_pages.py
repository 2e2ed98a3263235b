"""/docs and /redoc render in Chromium under their Content-Security-Policy, from this server alone."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.ui.browser import TIMEOUT_MS

pytestmark = pytest.mark.browser

# Reported on the page's console by an init script, so a blocked load cannot go unnoticed.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation",
  e => console.error("CSP violation: " + e.effectiveDirective + " " + e.blockedURI));"""


class Watched:
    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(base_url=base_url)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.page.add_init_script(REPORT_VIOLATIONS)
        self.origin = urlsplit(base_url).netloc
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("response", self._response)

    def _response(self, response: Any) -> None:
        parts = urlsplit(response.url)
        if parts.scheme != "blob" and parts.netloc != self.origin:
            self.foreign.append(response.url)


@pytest.fixture
def watched(browser: Any, ui_server: Any) -> Any:
    opened = Watched(browser, ui_server.url)
    try:
        yield opened
    finally:
        opened.context.close()


def test_swagger_ui_renders_and_calls_the_api_under_a_strict_policy(watched: Watched) -> None:
    page = watched.page
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("limelight")
    assert page.locator(".opblock").count() > 30
    # styled by its stylesheet from /docs/assets, not bare HTML
    assert page.locator(".opblock-summary-method").first.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    healthz = page.locator("#operations-operations-healthz_healthz_get")
    healthz.locator(".opblock-summary").click()
    healthz.get_by_role("button", name="Try it out").click()
    healthz.get_by_role("button", name="Execute").click()
    expect(healthz.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert watched.errors == [] and watched.foreign == []


def test_redoc_renders_and_searches_with_nothing_from_elsewhere(watched: Watched) -> None:
    page = watched.page
    response = page.goto("/redoc")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("h1").first).to_contain_text("limelight")
    expect(page.locator(".menu-content")).to_contain_text("marketplace")
    page.get_by_placeholder("Search...").fill("whoami")
    expect(page.locator('[data-role="search:results"]')).to_contain_text("Whoami")
    # ReDoc's footer logo points at its vendor's CDN: the policy blocks it, and it is the only thing blocked.
    blocked = [e for e in watched.errors if "cdn.redoc.ly" not in e]
    assert blocked == [] and watched.foreign == []
