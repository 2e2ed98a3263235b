"""Training a behaviour model from the console: the profiles field, and a cutoff outside the data
refused on the form with the data's range."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import sign_in

pytestmark = pytest.mark.browser


def test_churn_form_offers_profiles_and_shows_a_cutoff_refusal(pages, ui_server, studio, org_api):
    org, _ = studio
    created = org_api(org).post(f"/api/v1/orgs/{org}/datasets", data={"name": "people", "kind": "users"},
                                files={"file": ("people.csv", b"user_id,plan\nu1,free\nu2,family\n")})
    assert created.status_code == 201, created.text
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/train?recipe=predict-behaviour/churn")
    page.get_by_label("Dataset", exact=True).select_option("ratings")
    page.get_by_label("Profiles").select_option("people")
    page.get_by_label("Cutoff", exact=True).fill("2030-01-01")
    pages.watches[-1].expect(422, "/train")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("alert")).to_contain_text("outside the data's range")
    expect(page.get_by_label("Profiles")).to_have_value("people")  # the answers are kept
