"""A failed job offers Retry on its page: the same recipe, parameters and data, as the next attempt."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.factories import tabular_csv, wait_for_job
from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import sign_in
from tests.ui.setup_api import upload

pytestmark = pytest.mark.browser


def test_a_failed_job_is_retried_from_its_page(pages, ui_server, new_org, org_api):
    org = new_org()
    api = org_api(org)
    upload(api, org, "churn", "tabular", tabular_csv())
    submitted = api.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "classify/lightgbm", "dataset": "churn",
                                                          "model": "broken", "params": {"target": "missing"}})
    assert submitted.status_code == 201, submitted.text
    job = wait_for_job(api, org, submitted.json()["id"])
    assert (job["state"], job["attempts"]) == ("failed", 1)
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto(f"/jobs/{job['id']}")
    expect(page.locator("#job-state")).to_contain_text("failed")
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    page.get_by_role("button", name="Retry").click()
    page.wait_for_url(f"**/jobs/{job['id']}")
    again = wait_for_job(api, org, job["id"])
    assert (again["state"], again["attempts"], again["params"]) == ("failed", 2, job["params"])
    page.reload()
    expect(page.locator("#job")).to_contain_text("attempt 2 of 2")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    audit = api.get(f"/api/v1/orgs/{org}/audit", params={"action": "job.retry"}).json()["items"]
    assert [entry["object_id"] for entry in audit] == [job["id"]]
