"""The marketplace in Chromium: facets with counts narrow the results, sorting, stars on a model's
page, and "Try it" on another org's public model opening a playground that answers."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import screenshot, sign_in
from tests.ui.setup_api import register_small_version

pytestmark = pytest.mark.browser


@pytest.fixture
def shelf(new_org, org_api):  # type: ignore[no-untyped-def]
    """Another org's three public models sharing a word, one of them servable and starred once."""
    owner, token = new_org(), "zq" + uuid.uuid4().hex[:10]
    api = org_api(owner)
    models = {"kids-recs": ("recommend", ["kids", "movies"], "MIT"), "toon-tagger": ("classify", ["kids"], None),
              "news-ranker": ("classify", ["news"], "Apache-2.0")}
    for name, (task, tags, licence) in models.items():
        made = api.post(f"/api/v1/orgs/{owner}/models", json={
            "name": name, "task": task, "tags": tags, "licence": licence, "visibility": "public",
            "description": f"{token} model for {name.replace('-', ' ')}"})
        assert made.status_code == 201, made.text
    register_small_version(api, owner, "toon-tagger", accuracy=0.8)
    assert api.put(f"/api/v1/orgs/{owner}/models/news-ranker/star").status_code == 200
    return owner, token


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_facets_narrow_the_results_and_sorting_reorders_them(viewport, pages, ui_server, new_org, shelf):
    owner, token = shelf
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, new_org())
    page.goto(f"/models?q={token}")
    expect(page.locator("#match-count")).to_have_text("3 models match")
    tags = page.locator('.facet[data-facet="tag"]')
    expect(tags.locator('a[data-value="kids"]')).to_contain_text("2")
    expect(page.locator('.facet[data-facet="licence"]')).to_contain_text("Apache-2.0")
    tags.locator('a[data-value="kids"]').click()
    expect(page).to_have_url(re.compile(r"tag=kids"))
    expect(page.locator("#model-list > li")).to_have_count(2)
    expect(page.locator("#match-count")).to_have_text("2 models match")
    expect(tags.locator('a[data-value="kids"]')).to_have_attribute("aria-current", "true")
    page.locator('.facet[data-facet="task"] a[data-value="recommend"]').click()
    expect(page.locator("#model-list > li")).to_have_count(1)
    expect(page.locator("#model-list")).to_contain_text("kids-recs")
    page.locator('.facet[data-facet="tag"] a[data-value="kids"]').click()  # chosen: a click removes it
    expect(page).not_to_have_url(re.compile(r"tag=kids"))
    expect(page.locator("#model-list > li")).to_have_count(1)  # the task filter stays
    page.goto(f"/models?q={token}")
    page.get_by_label("Sort").select_option("stars")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"sort=stars"))
    expect(page.locator("#model-list > li").first).to_contain_text("news-ranker")
    expect(page.locator("#model-list > li").first.locator(".stars")).to_have_text("★ 1")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"/models scrolls sideways by {overflow}px"
    screenshot(page, f"{viewport}-marketplace-facets")


def test_a_bad_search_text_is_explained_on_the_page(pages, ui_server, new_org):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, new_org())
    page.goto('/models?q=*%20""')
    expect(page.locator("#search-problem")).to_contain_text("no word to search for")
    expect(page.get_by_label("Search")).to_have_value('* ""')


def test_star_a_public_model_and_try_it_in_its_playground(pages, ui_server, new_org, shelf):
    owner, token = shelf
    viewer_org = new_org()
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, viewer_org)
    page.goto(f"/models?q={token}")
    card = page.locator(f'#model-list > li[data-model="{owner}/toon-tagger"]')
    expect(card.get_by_role("link", name="Try it")).to_be_visible()
    expect(page.locator(f'#model-list > li[data-model="{owner}/kids-recs"]').get_by_role("link", name="Try it")) \
        .to_have_count(0)  # no version yet: nothing to try
    card.get_by_role("link", name=f"{owner}/toon-tagger").click()
    expect(page).to_have_url(re.compile(rf"/models/{owner}/toon-tagger$"))
    star = page.locator("#star-button")
    expect(star).to_contain_text("Star")
    expect(page.locator("#star-count")).to_have_text("0")
    star.click()
    expect(page.locator("#star-button")).to_contain_text("Starred")
    expect(page.locator("#star-count")).to_have_text("1")
    expect(page.locator("#star-button")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("#star-count")).to_have_text("1")
    page.locator("#star-button").click()
    expect(page.locator("#star-button")).not_to_contain_text("Starred")
    expect(page.locator("#star-count")).to_have_text("0")

    page.get_by_role("link", name="Try it").click()
    expect(page).to_have_url(re.compile(rf"/playground/{owner}/toon-tagger$"))
    page.get_by_label("Request body (JSON)").fill('{"inputs": [[0.2, 0.4, 0.6]]}')
    page.get_by_role("button", name="Predict").click()
    expect(page.locator("#predict-status")).to_have_text("Answered by version 1.")
    expect(page.locator("#predict-output")).to_contain_text('"outputs"')
    expect(page.locator("#predict-output")).to_contain_text(f'"{owner}/toon-tagger"')
    screenshot(page, "desktop-marketplace-try-it")
