"""The recommender playground: titles for a user, "because you watched", and a live event changing the list.

These need the recommendation recipes, the ``:recommend`` / ``:explain`` verbs and the events API;
where one is missing from this build the test is skipped with a reason naming it.
"""

from __future__ import annotations

import re
from contextlib import closing

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.ui.browser import screenshot, sign_in
from tests.ui.data import audience_csv, catalog_csv, catalog_titles, watched_titles
from tests.ui.flows import recommender_recipe, verb_available
from tests.ui.setup_api import make_org, session_client, train, upload

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def recs(ui_server: LiveServer, admin: httpx.Client) -> str:
    """An org whose recommender ``recs`` (trained on the generated audience, with the catalogue) is in production."""
    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        recipe = recommender_recipe(api)
        if recipe is None:
            pytest.skip("no recommend/* training recipe in this build (GET /api/v1/recipes lists none)")
        if not verb_available(api, "recommend"):
            pytest.skip("POST /v1/models/{org}/{name}:recommend is not available in this build")
        upload(api, org, "ratings", "interactions", audience_csv())
        upload(api, org, "catalog", "items", catalog_csv())
        train(api, org, recipe, "ratings", "recs", items_dataset="catalog", promote="production")
    return org


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_recommendations_show_titles_and_change_after_a_play(viewport, pages, ui_server, recs):
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, recs)
    page.goto("/playground/recs")
    user = page.get_by_label("User").input_value()
    assert user.startswith("u")
    page.get_by_role("button", name="Recommend").click()
    items = page.locator("#recs li.rec")
    expect(items).to_have_count(10)
    titles = items.locator(".rec-title").all_inner_texts()
    assert set(titles) <= catalog_titles() and len(set(titles)) == 10
    expect(items.first.locator(".rec-score")).to_have_text(re.compile(r"^-?\d+\.\d{3}$"))
    expect(page.locator("#snippet-curl .js-user")).to_have_text(user)
    screenshot(page, f"{viewport}-05-playground")

    played = items.first.get_attribute("data-item")
    items.first.get_by_role("button", name=re.compile(r"^send a play event for ")).click()
    expect(page.locator("#event-status")).to_have_text(f"Sent play of {played} for {user}.")
    expect(page.locator(f'#recs li.rec[data-item="{played}"]')).to_have_count(0)  # watched now: left out
    expect(page.locator("#recs-status")).to_contain_text("changed")


def test_unknown_user_gets_the_popularity_fallback(pages, ui_server, recs):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, recs)
    page.goto("/playground/recs")
    page.get_by_label("User").fill("someone-new")
    page.get_by_role("button", name="Recommend").click()
    expect(page.locator("#recs li.rec")).to_have_count(10)
    expect(page.locator("#recs-status")).to_contain_text("fallback: popularity")


def test_another_orgs_public_recommender_answers_without_offering_its_events(pages, ui_server, recs, new_org,
                                                                              org_api):
    """Live events belong to the org that owns a recommender: a visitor can try it, not feed it."""
    assert org_api(recs).patch(f"/api/v1/orgs/{recs}/models/recs", json={"visibility": "public"}).status_code == 200
    visitor = new_org()
    page, watch = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, visitor)
    page.goto(f"/playground/{recs}/recs")
    expect(page.locator("#event-form")).to_have_count(0)
    expect(page.locator("#events-own-only")).to_contain_text(f"{recs} sends them")
    expect(page.locator("#snippet-python")).not_to_contain_text("client.events.send")
    page.get_by_role("button", name="Recommend").click()
    expect(page.locator("#recs li.rec")).to_have_count(10)
    expect(page.locator("#recs li.rec .rec-play")).to_have_count(0)
    assert watch.errors == []


def test_because_you_watched(pages, ui_server, recs, admin):
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, recs)) as api:
        if not verb_available(api, "explain"):
            pytest.skip("POST /v1/models/{org}/{name}:explain is not available in this build")
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, recs)
    page.goto("/playground/recs")
    user = "u7"  # no test sends events for this user, so their history is the uploaded one
    page.get_by_label("User").fill(user)
    page.get_by_role("button", name="Recommend").click()
    first = page.locator("#recs li.rec").first
    why = first.locator(".rec-why")
    expect(why).to_contain_text("Because you watched ")
    named = set(why.inner_text().removeprefix("Because you watched ").split(", "))
    assert named and named <= watched_titles(user)  # titles from this user's own history
    assert first.locator(".rec-title").inner_text() not in named


def test_recommender_page_offers_only_what_the_server_answers(pages, ui_server, new_org, org_api):
    """Runs in every build: the page for a recommend model loads cleanly, with the call examples."""
    from tests.ui.setup_api import create_model, register_small_version

    org = new_org()
    api = org_api(org)
    create_model(api, org, "recs", task="recommend")
    register_small_version(api, org, "recs")
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/playground/recs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("recs")
    expect(page.locator("#snippet-curl")).to_contain_text(f"/v1/models/{org}/recs:recommend")
    expect(page.locator("#snippet-python")).to_contain_text(f'client.recommend("{org}/recs", user_id=')
    known = verb_available(api, "recommend")
    expect(page.locator("#recommend-unavailable")).to_have_count(0 if known else 1)


def test_the_monitoring_page_shows_what_the_recommender_showed(pages, ui_server, recs, org_api):
    """The playground's recommendations above were counted: this week's row, coverage and the chart."""
    api = org_api(recs)
    for user in ("u0001", "u0002"):
        assert api.post(f"/v1/models/{recs}/recs:recommend", json={"user_id": user, "k": 10}).status_code == 200
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, recs)
    for _ in range(50):  # the counts reach the store every monitoring.flush_interval_s (0.2 s here)
        health = api.get(f"/api/v1/orgs/{recs}/monitoring/models/recs/catalog").json()
        if health["weeks"][-1]["recommendations"] >= 20:
            break
        page.wait_for_timeout(200)
    this_week = health["weeks"][-1]
    assert this_week["recommendations"] >= 20 and 0 < this_week["coverage"] <= 1
    page.goto("/monitoring/recs")
    row = page.locator("#catalog-weeks tbody tr").first
    expect(row.locator("td[data-shown]")).to_have_text(str(this_week["recommendations"]))
    expect(row).to_contain_text(f"{100 * this_week['coverage']:.1f}%")
    expect(page.locator("#catalog-health figure.chart")).to_have_count(1)
    screenshot(page, "phone-catalog-health")
