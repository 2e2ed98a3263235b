"""Every main page at desktop and phone size: clean console, labelled controls, no sideways scrolling, CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import screenshot, sign_in

pytestmark = pytest.mark.browser

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def _pages(org: str, job_id: str) -> list[tuple[str, str]]:
    return [("overview", "/"), ("datasets", "/datasets"), ("dataset", "/datasets/ratings"), ("train", "/train"),
            ("jobs", "/jobs"), ("job", f"/jobs/{job_id}"), ("models", "/models"), ("model", f"/models/{org}/churn"),
            ("compare", f"/models/{org}/churn/compare"),
            ("playground", "/playground"), ("model-playground", "/playground/churn"), ("monitoring", "/monitoring"),
            ("model-monitoring", "/monitoring/churn"), ("audit", "/audit"), ("keys", "/keys"),
            ("members", "/members"), ("usage", "/usage"), ("experiments", "/experiments")]


@pytest.fixture(scope="module")
def long_strings(ui_server, studio):  # type: ignore[no-untyped-def]
    """Unbroken 64-character names and a 2,000-character description (what API fuzzing leaves behind)
    must wrap instead of pushing pages sideways."""
    org, _ = studio
    name = "a" + "b" * 63
    with ui_server.client() as client:
        client.post(f"/api/v1/orgs/{org}/models", json={"name": name, "task": "classify", "description": "x" * 2000,
                                                        "tags": ["t" * 64], "card": "y" * 3000})
        client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("f.csv", b"item_id,title\ni1," + b"z" * 500 + b"\n")},
                    data={"name": name, "kind": "items"})
        # the admin becomes owner, so the organization switcher lists it
        client.post("/api/v1/orgs", json={"name": "wide-" + "w" * 40, "display_name": "W" * 200})
    return name


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_main_page_is_clean_labelled_and_fits(viewport, pages, ui_server, studio, long_strings):
    org, job_id = studio
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    for name, path in _pages(org, job_id):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate(UNLABELLED_CONTROLS) == [], path
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
        screenshot(page, f"{viewport}-page-{name}")


def test_marketplace_search_filters_by_text_task_and_tag(pages, ui_server, studio):
    org, _ = studio
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/models")
    page.get_by_label("Task").select_option("classify")
    page.get_by_label("Tag").fill("retention")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"task=classify.*tag=retention"))
    expect(page.locator("#model-list li")).to_have_count(1)
    page.get_by_label("Task").select_option("recommend")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#model-list")).to_have_count(0)
    page.goto("/models?q=cancels")
    expect(page.locator("#model-list").get_by_role("link", name="churn")).to_be_visible()
    page.locator("#model-list").get_by_role("link", name="churn").click()
    expect(page.locator("#model-card table")).to_contain_text("accuracy")


def test_train_form_is_drawn_from_the_recipe_schema_and_shows_refusals(pages, ui_server, studio):
    org, _ = studio
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/train?recipe=classify/lightgbm")
    rounds = page.get_by_label("Num boost round")
    expect(rounds).to_have_value("200")
    expect(rounds).to_have_attribute("min", "1")
    expect(page.locator("#param-num-boost-round-help")).to_contain_text("boosting rounds")
    page.get_by_label("Learning rate").fill("5")
    page.evaluate("document.getElementById('train-form').noValidate = true")  # let the server judge it
    page.get_by_label("Dataset", exact=True).select_option("churn")
    pages.watches[-1].expect(400, "/train")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("alert")).to_contain_text("params.learning_rate")
    expect(page.get_by_label("Learning rate")).to_have_value("5")  # the answers are kept


def test_visibility_change_is_confirmed_and_audited(pages, ui_server, studio, org_api):
    org, _ = studio
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/models/{org}/churn")
    page.get_by_label("Visibility").select_option("public")
    page.get_by_role("button", name="Save").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.locator("#visibility-badge")).to_have_text("public")
    page.goto("/audit?action=model.update")
    expect(page.locator("#audit-table")).to_contain_text(f"{org}/churn")
    expect(page.locator("#audit-table")).to_contain_text("visibility=public")
    assert org_api(org).get(f"/api/v1/orgs/{org}/models/churn").json()["visibility"] == "public"


# Every visible element (deliberately scrollable frames aside) must lie within the viewport's width.
WIDER_THAN_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  return [...document.querySelectorAll('body *')]
    .filter(el => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')
    .filter(el => !el.closest('pre, .scroll-region, .skip-link, .visually-hidden'))
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && (r.right > width + 1 || r.left < -1))
    .map(([el, r]) => `${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${width}px`)
    .slice(0, 8);
}"""
# Every chart's labels lie inside the chart ("23:4" was all a phone showed of "23:45").
CLIPPED_CHART_LABELS = """() => [...document.querySelectorAll('svg text')]
  .filter(t => t.closest('svg').getBoundingClientRect().width > 0)
  .filter(t => { const s = t.closest('svg').getBoundingClientRect(), r = t.getBoundingClientRect();
                 return r.width > 0 && (r.left < s.left - 1 || r.right > s.right + 1); })
  .map(t => t.textContent)"""
# Every visible button (or button-like link, or submit input) is inside the viewport and is what a
# tap on its centre hits.
UNREACHABLE_BUTTONS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('button, a.button, input[type=submit], [role=button]')) {
    if (el.offsetParent === null || el.closest('dialog:not([open]), details:not([open]) > :not(summary)')) continue;
    el.scrollIntoView({block: 'center', inline: 'nearest'});
    const r = el.getBoundingClientRect();
    const label = (el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
    if (r.left < -1 || r.right > width + 1) { out.push(`"${label}" spans ${Math.round(r.left)}..${Math.round(r.right)}`); continue; }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(hit === el || el.contains(hit))) out.push(`"${label}" is covered by ${hit ? hit.tagName : 'nothing'}`);
  }
  return out;
}"""
# Under a phone's width no table keeps its side-by-side columns but a two-column list (.kv) or a
# deliberately scrollable matrix.
UNSTACKED_TABLES = """() => [...document.querySelectorAll('table')]
  .filter(t => t.offsetParent !== null && !t.closest('.scroll-region') && !t.classList.contains('kv'))
  .filter(t => t.tBodies.length && t.tBodies[0].rows.length && getComputedStyle(t.tBodies[0].rows[0]).display === 'table-row')
  .map(t => t.id || t.className || 'table')"""


def test_on_a_phone_every_table_stacks_and_every_button_can_be_tapped(pages, ui_server, studio, long_strings, org_api):
    """390x844: rows become cards that name each column; nothing but a matrix or code scrolls sideways;
    every visible button lies on screen and receives a tap at its centre."""
    org, job_id = studio
    # a key, so the keys table has a row with its Revoke button
    assert org_api(org).post("/api/v1/keys", json={"name": "phone-key", "org": org, "scopes": ["read"]}).status_code == 201
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    for name, path in _pages(org, job_id):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate(WIDER_THAN_VIEWPORT) == [], f"{name}: wider than the phone"
        assert page.evaluate(UNSTACKED_TABLES) == [], f"{name}: tables still in columns"
        assert page.evaluate(UNREACHABLE_BUTTONS) == [], f"{name}: buttons out of reach"
        assert page.evaluate(CLIPPED_CHART_LABELS) == [], f"{name}: chart labels cut off"
    page.goto("/keys")
    row = page.locator("#keys-table tbody tr", has_text="phone-key")
    expect(row.locator("td[data-label='Scopes']")).to_contain_text("read")
    expect(row.get_by_role("button", name="Revoke")).to_be_in_viewport()
    screenshot(page, "phone-keys-stacked")
