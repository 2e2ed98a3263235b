"""Text classifiers in the console: upload labelled texts and train from the browser with a live curve,
the confusion matrix on the model page, and the classify playground calling the real API."""

from __future__ import annotations

import re
from contextlib import closing

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.text.synthetic import csv_bytes, labeled_rows
from tests.ui.browser import screenshot, sign_in
from tests.ui.flows import start_training, upload_dataset
from tests.ui.setup_api import make_org, session_client, train, upload

pytestmark = pytest.mark.browser

RECIPE = "classify-text/tfidf"


@pytest.fixture(scope="module")
def reviews(ui_server: LiveServer, admin: httpx.Client) -> str:
    """An org whose text classifier ``sentiment`` (tfidf on three templated classes) is in production."""
    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        upload(api, org, "reviews", "labeled_text", csv_bytes(labeled_rows(300)))
        train(api, org, RECIPE, "reviews", "sentiment", promote="production")
        warm = api.post(f"/v1/models/{org}/sentiment:classify", json={"text": "warm up"}, timeout=120)
        assert warm.status_code == 200, warm.text
    return org


def test_model_page_shows_the_confusion_matrix_and_calibration(pages, ui_server, reviews):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, reviews)
    page.goto(f"/models/{reviews}/sentiment")
    matrix = page.locator("#confusion-matrix")
    expect(matrix.locator("thead th")).to_have_text([re.compile("true"), "neg", "neu", "pos"])
    expect(matrix.locator("tbody tr")).to_have_count(3)
    diagonal = [int(t) for t in matrix.locator("td.diagonal").all_inner_texts()]
    off = [int(t) for t in matrix.locator("td:not(.diagonal)").all_inner_texts()]
    assert len(diagonal) == 3 and sum(diagonal) > 4 * sum(off)  # the templated classes are easy
    expect(page.locator("#per-class tbody tr")).to_have_count(3)
    expect(page.locator("#calibration tbody tr").first).to_be_visible()
    screenshot(page, "desktop-text-evaluation")


def test_classify_playground_labels_texts_through_the_api(pages, ui_server, reviews):
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, reviews)
    page.goto("/playground/sentiment")
    page.get_by_label("One text per line").fill("What a wonderful film!\nThe hotel was dreadful.")
    page.get_by_role("button", name="Classify").click()
    answers = page.locator("#predictions li")
    expect(answers).to_have_count(2)
    assert [answers.nth(i).get_attribute("data-label") for i in range(2)] == ["pos", "neg"]
    expect(answers.first.locator(".label-score").first).to_contain_text("pos")
    expect(page.locator("#classify-status")).to_contain_text("answered by version 1")
    screenshot(page, "phone-text-playground")


def test_upload_and_train_from_the_browser_draws_the_curve(pages, ui_server, admin):
    org = make_org(admin)
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    upload_dataset(page, "comments", "labeled_text", "comments.csv", csv_bytes(labeled_rows(240, seed=3)))
    start_training(page, RECIPE, "comments", "tagger")
    expect(page.locator("#job-state")).to_contain_text("succeeded", timeout=90_000)
    expect(page.locator("#results")).to_be_visible(timeout=90_000)
    curve = page.locator("#training-curve svg.line-chart")
    expect(curve.first).to_be_attached()
    expect(page.locator("#training-curve circle.marker").first).to_be_attached()
    expect(page.locator("#job-log li.log-metric").first).to_be_attached()
    screenshot(page, "desktop-text-job")


@pytest.fixture(scope="module")
def catalog_search(ui_server: LiveServer, admin: httpx.Client) -> str:
    """An org whose catalog search ``finder`` (search/catalog on a synthetic film catalog) is in production."""
    from tests.search import catalog_data

    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        upload(api, org, "films", "items", catalog_data.items_csv(catalog_data.items(120)))
        train(api, org, "search/catalog", "films", "finder", promote="production")
        # the first call validates and loads the version; the pages under test come after that
        warm = api.post(f"/v1/models/{org}/finder:search", json={"query": "warm up"}, timeout=120)
        assert warm.status_code == 200, warm.text
    return org


def test_search_playground_finds_by_meaning_and_marks_matched_words(pages, ui_server, catalog_search):
    from tests.search import catalog_data

    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, catalog_search)
    page.goto("/playground/finder")
    page.get_by_label("Search the catalog").fill(catalog_data.SYNONYM_QUERY)
    page.get_by_role("button", name="Search").click()
    results = page.locator("#search-results li")
    expect(results.first).to_have_attribute("data-item", catalog_data.CHEF_ID)
    expect(page.locator("#search-status")).to_contain_text("from version 1")
    page.get_by_label("Search the catalog").fill(catalog_data.RARE_QUERY)
    page.get_by_label("Ranking").select_option("lexical")
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first.locator(".rec-title mark")).to_have_text("Zarkovian")
    screenshot(page, "desktop-search-playground")


def test_search_playground_reports_bad_filters_without_calling(pages, ui_server, catalog_search):
    page, watch = pages.new()
    watch.allowed.append((422, ":search"))
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, catalog_search)
    page.goto("/playground/finder")
    page.get_by_label("Search the catalog").fill("a ghost")
    page.get_by_label(re.compile("^Filters")).fill("{not json")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-status")).to_have_text("The filters are not valid JSON.")
    page.get_by_label(re.compile("^Filters")).fill('{"no_such_column": ["x"]}')
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-status")).to_contain_text("Refused")
    expect(page.locator("#search-results li")).to_have_count(0)
