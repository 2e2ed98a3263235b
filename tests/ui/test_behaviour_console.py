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


def test_a_behaviour_model_page_scores_every_user_into_a_dataset_that_downloads(pages, ui_server, studio,
                                                                                 org_api):
    import csv
    import io

    from tests.behaviour.data import audience
    from tests.support.factories import wait_for_job
    from tests.support.local_context import parquet_bytes

    org, _ = studio
    api = org_api(org)
    uploaded = api.post(f"/api/v1/orgs/{org}/datasets", data={"name": "audience-events", "kind": "interactions"},
                        files={"file": ("events.parquet", parquet_bytes(audience(n_users=120).interactions))})
    assert uploaded.status_code == 201, uploaded.text
    queued = api.post(f"/api/v1/orgs/{org}/jobs", json={
        "recipe": "predict-behaviour/churn", "dataset": "audience-events", "model": "leavers",
        "promote": "production", "params": {"horizon_days": 30, "num_boost_round": 10}})
    assert queued.status_code == 201, queued.text
    assert wait_for_job(api, org, queued.json()["id"], 240)["state"] == "succeeded"

    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/train")
    expect(page.get_by_role("navigation", name="Recipes")).to_contain_text("predict-behaviour/churn")
    expect(page.get_by_role("navigation", name="Recipes")).not_to_contain_text("score-users")  # not a training
    page.goto(f"/models/{org}/leavers")
    section = page.locator("#score-users")
    section.get_by_label("Dataset").fill("leavers-top")
    section.get_by_label("Top").fill("7")
    section.get_by_role("button", name="Start scoring").click()
    page.wait_for_url("**/jobs/*")
    stored = page.locator("#stored-dataset")
    expect(stored).to_contain_text("leavers-top version 1", timeout=120_000)  # the page reloads when it ends
    expect(stored).to_contain_text("7 rows")
    expect(page.get_by_role("button", name="Promote")).to_have_count(0)  # nothing was registered
    download = page.request.get(stored.get_by_role("link", name="CSV").get_attribute("href"))
    assert download.status == 200, download.text()
    rows = list(csv.DictReader(io.StringIO(download.text())))
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 8)]
    probabilities = [float(r["probability"]) for r in rows]
    assert probabilities == sorted(probabilities, reverse=True) and all(r["top_reason"] for r in rows)

    page.goto(f"/models/{org}/leavers")
    section.get_by_label("Dataset").fill("ratings")  # an interactions dataset: refused, not overwritten
    pages.watches[-1].expect(409, f"/models/{org}/leavers/score-users")
    section.get_by_role("button", name="Start scoring").click()
    expect(page.get_by_role("alert")).to_contain_text("holds kind 'interactions'")
