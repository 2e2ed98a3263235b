"""CSRF, script injection and role checks, seen from a real browser session."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import sign_in
from tests.ui.conftest import USER_PASSWORD
from tests.ui.data import SCRIPT_COLUMN, hostile_tabular_csv
from tests.ui.setup_api import create_model, register_small_version, set_alias, upload

pytestmark = pytest.mark.browser

HOSTILE_CARD = """# Churn model

Plain **text** stays.

<script>window.__xss_card = 1</script>
<img src="javascript:window.__xss_card=2" onerror="window.__xss_card = 2">
<a href="javascript:window.__xss_card=3">click me</a>
<a href="https://example.com/docs" onclick="window.__xss_card = 4">docs</a>
<iframe src="https://example.com"></iframe>
<svg onload="window.__xss_card = 5"></svg>
"""


def test_state_changes_without_the_csrf_token_are_refused(pages, ui_server, new_org, org_api):
    org = new_org()
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    # the API: session cookie without the X-CSRF-Token header
    refused = page.request.post("/api/v1/keys", data={"name": "no-token", "org": org, "scopes": ["read"]})
    assert refused.status == 403
    assert refused.json()["error"]["details"] == {"reason": "csrf"}
    wrong = page.request.post("/api/v1/keys", data={"name": "bad-token", "org": org, "scopes": ["read"]},
                              headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status == 403
    # a console form without its hidden csrf_token field
    form = page.request.post("/keys", form={"name": "form-no-token", "scopes": "read"},
                             headers={"Accept": "text/html"})
    assert form.status == 403
    assert "CSRF" in form.text()
    names = [k["name"] for k in org_api(org).get("/api/v1/keys").json()["items"]]
    assert not {"no-token", "bad-token", "form-no-token"} & set(names)
    # the same requests with the token are accepted, so the token is what made the difference
    accepted = page.request.post("/keys", form={"name": "form-token", "scopes": "read", "csrf_token": token or ""},
                                 headers={"Accept": "text/html"})
    assert accepted.status == 201
    assert "form-token" in [k["name"] for k in org_api(org).get("/api/v1/keys").json()["items"]]


def test_sign_in_form_needs_its_own_token(pages, ui_server):
    page, _ = pages.new()
    answer = page.request.post("/login", form={"username": "admin", "password": ADMIN_PASSWORD, "next": "/"},
                               max_redirects=0)
    assert answer.status == 403
    assert "limelight_session" not in answer.headers.get("set-cookie", "")


def test_model_card_with_script_renders_inert(pages, ui_server, new_org, org_api):
    org = new_org()
    create_model(org_api(org), org, "churn", card=HOSTILE_CARD)
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/models/{org}/churn")
    card = page.locator("#model-card")
    expect(card.get_by_role("heading", name="Churn model")).to_be_visible()
    expect(card.locator("strong")).to_have_text("text")
    assert card.locator("script, iframe, [onerror], [onload], [onclick], [style]").count() == 0
    assert card.locator('a[href^="javascript"], img[src^="javascript"]').count() == 0
    expect(card.get_by_role("link", name="docs")).to_have_attribute("href", "https://example.com/docs")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss_card") is None


def test_dataset_column_holding_script_renders_as_text(pages, ui_server, new_org, org_api):
    org = new_org()
    upload(org_api(org), org, "hostile", "tabular", hostile_tabular_csv())
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets/hostile")
    columns = page.locator("#columns-table")
    expect(columns).to_contain_text(SCRIPT_COLUMN)  # shown literally, as text
    expect(page.locator("#preview-table")).to_contain_text("<img src=x onerror=")
    assert page.locator("#columns-table script, #preview-table script, #preview-table img").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("[window.__xss_column, window.__xss_value]") == [None, None]


def test_viewer_sees_no_promote_controls_and_the_server_refuses(pages, ui_server, new_org, new_member, org_api):
    org = new_org()
    api = org_api(org)
    create_model(api, org, "churn")
    register_small_version(api, org, "churn")
    register_small_version(api, org, "churn")
    set_alias(api, org, "churn", "production", 1)
    viewer = new_member(org, "viewer")

    page, _ = pages.new()
    sign_in(page, ui_server.url, viewer, USER_PASSWORD, org)
    page.goto(f"/models/{org}/churn")
    expect(page.locator("#versions-table")).to_contain_text("v2")
    expect(page.get_by_role("button", name="Promote to production")).to_have_count(0)
    assert page.locator(".promote-form, #alias-form, form[action$='/visibility']").count() == 0
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)

    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    through_api = page.request.put(f"/api/v1/orgs/{org}/models/churn/aliases/production", data={"version": 2},
                                   headers={"X-CSRF-Token": token})
    assert through_api.status == 403
    through_form = page.request.post(f"/models/{org}/churn/aliases", headers={"Accept": "text/html"},
                                     form={"alias": "production", "version": "2", "csrf_token": token})
    assert through_form.status == 403
    assert api.get(f"/api/v1/orgs/{org}/models/churn").json()["aliases"] == {"production": 1}
    pages.watches[-1].expect(403, "/audit")
    page.goto("/audit")  # maintainers only: a page that says so, not a crash
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
