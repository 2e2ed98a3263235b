"""The whole path of the console in Chromium: sign in, upload, train, watch, promote, keys; desktop and phone."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.factories import tabular_csv
from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import confirm_dialog, open_menu_if_collapsed, screenshot, sign_in
from tests.ui.data import audience_csv, catalog_csv
from tests.ui.flows import (
    promote_from_job_page,
    recommender_recipe,
    start_training,
    upload_dataset,
    watch_job_finish,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_full_path_from_upload_to_promoted_model(viewport, pages, ui_server, admin, new_org):
    org = new_org()
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    screenshot(page, f"{viewport}-01-overview-empty")

    open_menu_if_collapsed(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))
    upload_dataset(page, "ratings", "interactions", "ratings.csv", audience_csv())
    expect(page.locator("#profile-users")).to_have_text("48")
    expect(page.locator("#profile-items")).to_have_text("48")
    screenshot(page, f"{viewport}-02-dataset-profile")
    upload_dataset(page, "catalog", "items", "catalog.csv", catalog_csv())
    expect(page.locator("#preview-table")).to_contain_text("Laughing Road")

    recipe = recommender_recipe(admin)
    if recipe:
        model = "recs"
        start_training(page, recipe, "ratings", model, catalog="catalog")
    else:  # the recommender recipes are not installed in this build: the same path with a classifier
        upload_dataset(page, "churn", "tabular", "churn.csv", tabular_csv())
        model = "churn"
        start_training(page, "classify/lightgbm", "churn", model)
    watch_job_finish(page)
    if recipe == "recommend/auto":  # the candidates compared, the kept one marked, one bar each
        rows = page.locator("#candidates-table tbody tr")
        assert rows.count() >= 2
        expect(page.locator("#candidates-table tr.chosen")).to_have_count(1)
        expect(page.locator("#results svg.bar-chart rect.bar")).to_have_count(rows.count())
    screenshot(page, f"{viewport}-03-job-done")

    version = promote_from_job_page(page, model)
    screenshot(page, f"{viewport}-04-model")
    page.goto("/audit?action=alias.set")
    expect(page.locator("#audit-table")).to_contain_text(f"{org}/{model}@production")

    _create_use_and_revoke_key(page, ui_server.url, viewport)
    assert version >= 1


def _create_use_and_revoke_key(page, base_url: str, viewport: str) -> None:
    page.goto("/keys")
    page.get_by_label("Name").fill(f"ci-{viewport}")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("ll_")
    assert httpx.get(f"{base_url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    page.goto("/keys")  # shown once: the page no longer has it
    expect(page.locator("#new-key")).to_have_count(0)
    row = page.locator(f'tr[data-key-name="ci-{viewport}"]')
    row.get_by_role("button", name="Revoke").click()
    confirm_dialog(page)
    expect(page.locator(".notice")).to_have_text("API key revoked.")
    expect(page.locator(f'tr[data-key-name="ci-{viewport}"]')).to_contain_text("revoked")
    assert httpx.get(f"{base_url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}).status_code == 401
