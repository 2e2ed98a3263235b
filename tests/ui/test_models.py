"""Model pages: rolling production back (confirmed, audited) and forking a public model of another org."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import tabular_csv
from tests.support.job_events import follow_job
from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import confirm_dialog, screenshot, sign_in
from tests.ui.setup_api import create_model, register_small_version, set_alias, upload

pytestmark = pytest.mark.browser


def test_roll_production_back_to_an_older_version(pages, ui_server, new_org, org_api):
    org = new_org()
    api = org_api(org)
    create_model(api, org, "recs", task="recommend")
    register_small_version(api, org, "recs", accuracy=0.8)
    register_small_version(api, org, "recs", accuracy=0.7)
    set_alias(api, org, "recs", "production", 2)
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/models/{org}/recs")
    row = page.locator('#versions-table tr[data-version="1"]')
    expect(row).to_contain_text("accuracy 0.8")
    row.get_by_role("button", name="Roll back to v1").click()
    expect(page.locator("#confirm-text")).to_have_text("Roll production of recs back from v2 to v1?")
    confirm_dialog(page)
    expect(page.locator("#alias-list")).to_contain_text("production → version 1")
    assert api.get(f"/api/v1/orgs/{org}/models/recs").json()["aliases"] == {"production": 1}
    entry = api.get(f"/api/v1/orgs/{org}/audit", params={"action": "alias.set"}).json()["items"][0]
    assert entry["details"]["version"] == 1 and entry["details"]["previous"] == 2
    assert entry["actor"] == "user:admin"


def test_fork_a_public_model_from_the_marketplace(pages, ui_server, new_org, org_api):
    owner, other = new_org(), new_org()
    api = org_api(owner)
    create_model(api, owner, "genre-recs", task="recommend", card="Recommends by **genre**.")
    register_small_version(api, owner, "genre-recs")
    assert api.patch(f"/api/v1/orgs/{owner}/models/genre-recs", json={"visibility": "public"}).status_code == 200
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, other)
    page.goto("/models?q=genre")
    page.get_by_role("link", name=f"{owner}/genre-recs").click()
    expect(page.locator("#model-card strong")).to_have_text("genre")
    expect(page.get_by_role("button", name="Promote to production")).to_have_count(0)  # not ours to promote
    page.get_by_role("button", name=f"Fork into {other}").click()
    expect(page).to_have_url(re.compile(rf"/models/{other}/genre-recs$"))
    expect(page.locator("#forked-from")).to_have_text(f"Forked from {owner}/genre-recs@1")
    expect(page.locator("#alias-list")).to_contain_text("production → version 1")


def test_the_model_page_shows_generated_facts_and_runnable_snippets(pages, ui_server, studio):
    org, _ = studio
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/models/{org}/churn")
    facts = page.locator("#card-facts")
    expect(facts).to_contain_text("classify/lightgbm")
    expect(facts).to_contain_text("over 50 calls of the example")
    expect(page.locator("#model-card")).to_contain_text("Predicts who cancels next month.")  # the owners' prose
    expect(page.locator("#snippet-curl")).to_contain_text(f"/v1/models/{org}/churn:predict")
    expect(page.locator("#snippet-python")).to_contain_text("client.invoke(")
    expect(page.locator("#snippet-cli")).to_contain_text(f"limelight invoke {org}/churn predict")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1  # long snippets scroll inside their box, not the page
    screenshot(page, "phone-model-card-facts")


def test_fork_and_retrain_on_own_data_from_the_model_page(pages, ui_server, studio, new_org, org_api):
    owner, _ = studio
    other = new_org()  # the studio's private model is shared with it to read (fork rights included)
    shared = org_api(owner).put(f"/api/v1/orgs/{owner}/models/churn/shares/{other}", json={"access": "read"})
    assert shared.status_code == 200, shared.text
    api = org_api(other)
    upload(api, other, "our-churn", "tabular", tabular_csv(rows=300, seed=5))
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, other)
    page.goto(f"/models/{owner}/churn")
    page.get_by_label("and retrain on").select_option("our-churn")
    page.get_by_role("button", name=f"Fork into {other}").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f]{32}$"))
    job_id = page.url.rsplit("/", 1)[1]
    done = follow_job(api, other, job_id, timeout_s=180)
    assert done["state"] == "succeeded" and done["result"]["version"] == 2
    page.goto(f"/models/{other}/churn")
    expect(page.locator("#forked-from a")).to_have_attribute("href", f"/models/{owner}/churn")
    page.goto(f"/models/{owner}/churn")  # the parent's page links the fork this viewer can see
    expect(page.locator("#forks")).to_contain_text(f"{other}/churn")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_chosen_versions_compare_side_by_side_with_their_changes(viewport, pages, ui_server, new_org, org_api):
    org = new_org()
    api = org_api(org)
    create_model(api, org, "ranker")
    register_small_version(api, org, "ranker", accuracy=0.8, log_loss=0.5)
    register_small_version(api, org, "ranker", accuracy=0.7, log_loss=0.45, recall=0.6)
    register_small_version(api, org, "ranker", accuracy=0.85, log_loss=0.6)
    set_alias(api, org, "ranker", "production", 1)
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/models/{org}/ranker")
    page.get_by_label("compare v3").check()
    page.get_by_label("compare v1").check()
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"/models/.+/ranker/compare\?v=3&v=1$"))
    table = page.locator("#compare-table")
    expect(table.locator("thead th")).to_have_text(["Metric", "v1", "v3"])  # oldest first: the baseline
    accuracy, log_loss = table.locator('tr[data-metric="accuracy"]'), table.locator('tr[data-metric="log_loss"]')
    expect(accuracy.locator(".delta.better")).to_have_text("+0.05")
    expect(log_loss.locator(".delta.worse")).to_have_text("+0.1")  # a loss that grew is worse
    expect(page.locator("figure.chart")).to_have_count(2)
    expect(page.locator("figure.chart").first.locator(".bar-best")).to_have_count(1)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the comparison scrolls sideways by {overflow}px"
    screenshot(page, f"{viewport}-model-compare")

    page.goto(f"/models/{org}/ranker/compare")  # nothing chosen: production against the latest
    expect(page.locator("#compare-table thead th")).to_have_text(["Metric", "v1", "v3"])
    page.goto(f"/models/{org}/ranker/compare?v=1&v=2")
    expect(page.locator('#compare-table tr[data-metric="recall"] td').first).to_have_text("–")
    expect(page.locator('#compare-table tr[data-metric="log_loss"] .delta.better')).to_have_text("-0.05")
    pages.watches[-1].expect(404, "/compare")
    missing = page.goto(f"/models/{org}/ranker/compare?v=1&v=9")
    assert missing is not None and missing.status == 404
