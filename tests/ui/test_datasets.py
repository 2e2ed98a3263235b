"""Datasets in the browser: the validation report of a rejected upload, and delete with confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import confirm_dialog, sign_in
from tests.ui.data import audience_csv, bad_interactions_csv
from tests.ui.setup_api import upload

pytestmark = pytest.mark.browser


def test_rejected_upload_shows_the_bad_rows_and_stores_nothing(pages, ui_server, new_org, org_api):
    org = new_org()
    page, watch = pages.new()
    watch.expect(422, "/datasets")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets")
    expect(page.locator("#upload-status")).to_be_hidden()  # no "Uploading 0%" before an upload
    page.get_by_label("File").set_input_files({"name": "bad.csv", "mimeType": "text/csv",
                                               "buffer": bad_interactions_csv()})
    page.get_by_label("Name", exact=True).fill("bad")
    page.get_by_label("Kind").select_option("interactions")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-message")).to_contain_text("rejected: nothing was stored")
    expect(page.locator("#upload-status")).to_be_hidden()  # no "100% · validating…" left behind
    report = page.locator("#report-table tbody")
    expect(report.locator("tr")).to_have_count(2)
    expect(report.locator("tr").nth(0)).to_contain_text("3")
    expect(report.locator("tr").nth(0)).to_contain_text("user_id")
    expect(report.locator("tr").nth(1)).to_contain_text("lots")
    expect(report.locator("tr").nth(1)).to_contain_text("5")
    expect(page.locator("#report-summary")).to_contain_text("2 bad row(s)")
    assert org_api(org).get(f"/api/v1/orgs/{org}/datasets").json()["items"] == []


def test_delete_asks_first_and_cancel_keeps_the_dataset(pages, ui_server, new_org, org_api):
    org = new_org()
    api = org_api(org)
    upload(api, org, "ratings", "interactions", audience_csv())
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets/ratings")
    page.get_by_role("button", name="Delete dataset").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Delete dataset ratings")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert api.get(f"/api/v1/orgs/{org}/datasets/ratings").status_code == 200

    page.get_by_role("button", name="Delete dataset").click()
    confirm_dialog(page)
    expect(page.locator(".notice")).to_have_text("Dataset deleted.")
    assert api.get(f"/api/v1/orgs/{org}/datasets/ratings").status_code == 404


def test_a_tabular_upload_from_the_form_names_its_target_column(pages, ui_server, new_org, org_api):
    import io

    import pyarrow.csv as pacsv

    from tests.runtimes.test_tabular_features import churn_table

    org = new_org()
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets")
    expect(page.locator("#upload-status")).to_be_hidden()  # no progress bar before any upload
    expect(page.get_by_label("Target column")).to_be_hidden()  # only tabular data has a target
    csv = io.BytesIO()
    pacsv.write_csv(churn_table(rows=80).rename_columns(["customer", "plan", "tenure", "region", "churned"]), csv)
    page.get_by_label("File").set_input_files({"name": "customers.csv", "mimeType": "text/csv",
                                               "buffer": csv.getvalue()})
    page.get_by_label("Kind").select_option("tabular")
    page.get_by_label("Target column").fill("churned")
    page.get_by_role("button", name="Upload").click()
    page.locator("#upload-result-link").click()
    expect(page).to_have_url(f"{ui_server.url}/datasets/customers?version=1")
    dataset = org_api(org).get(f"/api/v1/orgs/{org}/datasets/customers").json()
    assert dataset["latest"]["rows"] == 80
    names = [c["name"] for c in dataset["latest"]["columns"]]
    assert "target" in names and "churned" not in names  # the named column is stored as the target


def test_an_image_archive_from_the_form_shows_its_labels_and_thumbnails(pages, ui_server, new_org, org_api):
    from tests.datasets_images.archives import labelled, zip_of

    org = new_org()
    page, watch = pages.new()
    watch.expect(422, "/datasets")  # the first upload is refused on purpose
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets")
    page.get_by_label("File").set_input_files({"name": "insects.zip", "mimeType": "application/zip",
                                               "buffer": zip_of(labelled(3) | {"ants/bad.jpg": b"nope"})})
    page.get_by_label("Kind").select_option("images")
    expect(page.get_by_label("Target column")).to_be_hidden()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#report-table tbody tr")).to_have_count(1)  # refused: the bad file is named
    expect(page.locator("#report-table")).to_contain_text("ants/bad.jpg")
    page.get_by_label("Keep the valid pictures").check()
    page.get_by_role("button", name="Upload").click()
    page.locator("#upload-result-link").click()
    expect(page.locator("#image-thumbnails img")).to_have_count(6)
    expect(page.locator(".label-count")).to_have_count(2)
    expect(page.locator("#image-files")).to_contain_text("ants/bad.jpg")
    assert org_api(org).get(f"/api/v1/orgs/{org}/datasets/insects").json()["latest"]["rows"] == 6


def test_a_labels_csv_from_the_form_gives_pictures_several_labels(pages, ui_server, new_org, org_api):
    from tests.datasets_images.archives import picture, zip_of

    org = new_org()
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    page.goto("/datasets")
    expect(page.get_by_label("Labels CSV")).to_be_hidden()  # only images take one
    pictures = {f"img/{i}.png": picture((i * 20, 100, 100), "PNG", seed=i) for i in range(6)}
    rows = ["path,label"] + [f"img/{i}.png,{'poster|drama' if i % 2 else 'poster|comedy'}" for i in range(6)]
    page.get_by_label("File").set_input_files({"name": "posters.zip", "mimeType": "application/zip",
                                               "buffer": zip_of(pictures)})
    page.get_by_label("Name", exact=True).fill("posters")
    page.get_by_label("Kind").select_option("images")
    page.get_by_label("Labels CSV").set_input_files({"name": "labels.csv", "mimeType": "text/csv",
                                                     "buffer": ("\n".join(rows) + "\n").encode()})
    page.get_by_role("button", name="Upload").click()
    page.locator("#upload-result-link").click()
    expect(page.locator(".label-count")).to_have_count(3)
    profile = org_api(org).get(f"/api/v1/orgs/{org}/datasets/posters").json()["latest"]["profile"]
    assert profile["multi_label"] is True and profile["labels"] == {"comedy": 3, "drama": 3, "poster": 6}
