"""The experiments pages in Chromium: the org's list, one experiment's per-variant table and charts,
and applying the decision from the page."""

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
def tested_org(ui_server, admin):  # type: ignore[no-untyped-def]
    """An A/B test on `scorer` where 60 users were served and the treatment's users clicked."""
    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        ok(api.post(f"/api/v1/orgs/{org}/models", json={"name": "scorer", "task": "classify"}))
        for _ in range(2):
            ok(api.post(f"/api/v1/orgs/{org}/models/scorer/versions", files={"file": ("m.skops", skops_model_bytes())},
                        data={"meta": '{"runtime": "sklearn"}'}))
        ok(api.put(f"/api/v1/orgs/{org}/models/scorer/aliases/production", json={"version": 1}))
        ok(api.put(f"/api/v1/orgs/{org}/models/scorer/aliases/candidate", json={"version": 2}))
        experiment = ok(api.post(f"/api/v1/orgs/{org}/models/scorer/experiments", json={
            "name": "ranker-ab", "min_samples": 10,
            "variants": [{"name": "control", "alias": "production", "weight": 50},
                         {"name": "new", "alias": "candidate", "weight": 50}]}))
        events = []
        for i in range(60):
            answer = ok(api.post(f"/v1/models/{org}/scorer:predict", json={"inputs": [[0.1, 0.2, 0.3]]},
                                 headers={"Limelight-Routing-Key": f"u{i}"}))
            if answer["experiment"]["variant"] == "new":
                events.append({"event_id": f"c{i}", "user_id": f"u{i}", "item_id": "i", "type": "click",
                               "request_id": answer["request_id"]})
        ok(api.post(f"/api/v1/orgs/{org}/events", json={"events": events}))
        deadline = time.monotonic() + 15  # exposures are written about every second
        path = f"/api/v1/orgs/{org}/models/scorer/experiments/{experiment['id']}"
        while sum(v["impressions"] for v in ok(api.get(path))["variants"]) < 60:
            assert time.monotonic() < deadline, "the exposures never reached the store"
            time.sleep(0.2)
    return org, experiment["id"]


def test_the_experiment_page_shows_each_variant_and_applies_the_decision(ui_server, tested_org, pages):  # type: ignore[no-untyped-def]
    org, experiment_id = tested_org
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/experiments")
    expect(page.locator(f'#experiments tr[data-experiment="{experiment_id}"]')).to_contain_text("running")
    page.get_by_role("link", name="ranker-ab").click()
    expect(page.locator('#variants tr[data-variant="new"]')).to_contain_text("100.00%")
    expect(page.locator('#variants tr[data-variant="control"]')).to_contain_text("0.00%")
    impressions = [int(t) for t in page.locator("#variants td[data-impressions]").all_inner_texts()]
    assert sum(impressions) == 60 and min(impressions) > 0
    expect(page.locator("#verdict")).to_have_attribute("data-action", "promote")
    expect(page.locator("figure.chart")).to_have_count(2)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    screenshot(page, "phone-experiment")
    page.locator("#decide").click()
    expect(page.locator("p.notice")).to_contain_text("Decision applied")
    expect(page.locator("#verdict")).to_contain_text("promote new")
    expect(page.locator("#decide")).to_have_count(0)
    page.goto("/models/" + org + "/scorer")
    expect(page.locator("body")).to_contain_text("production")
