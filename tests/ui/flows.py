"""Steps of the console walk-through, shared by the tests (each step asserts what a person would see)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ui.browser import confirm_dialog

TRAIN_TIMEOUT_MS = 90_000
RECOMMEND_PREFERENCE = ("recommend/auto", "recommend/ease", "recommend/als", "recommend/itemknn")


def recommender_recipe(api: httpx.Client) -> str | None:
    names = {r["name"] for r in api.get("/api/v1/recipes").json() if r["task"] == "recommend"}
    return next((n for n in RECOMMEND_PREFERENCE if n in names), min(names) if names else None)


def verb_available(api: httpx.Client, verb: str) -> bool:
    """Whether the inference API knows ``verb`` (an unknown verb answers 404 naming it)."""
    response = api.post(f"/v1/models/studio/no-such-model:{verb}", json={})
    if response.status_code != 404:
        return True
    return response.json()["error"].get("details", {}).get("verb") != verb


def upload_dataset(page: Any, name: str, kind: str, filename: str, content: bytes) -> None:
    page.goto("/datasets")
    page.get_by_label("File").set_input_files({"name": filename, "mimeType": "text/csv", "buffer": content})
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-percent")).to_have_text("100% · stored")
    expect(page.locator("#upload-progress")).to_have_js_property("value", 100)
    page.locator("#upload-result-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def start_training(page: Any, recipe: str, dataset: str, model: str, catalog: str | None = None) -> None:
    page.goto("/train")
    page.locator(".recipe-picker a").filter(has=page.get_by_text(recipe, exact=True)).click()
    expect(page.get_by_role("heading", level=2, name=recipe)).to_be_visible()
    page.get_by_label("Dataset", exact=True).select_option(dataset)
    if catalog:
        page.get_by_label(re.compile("^Catalog")).select_option(catalog)
    page.get_by_label("Model name").fill(model)
    with page.expect_response(lambda r: r.url.endswith("/logs")) as stream:  # the job page subscribes
        page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]+(\?.*)?$"))
    assert stream.value.status == 200
    assert stream.value.headers["content-type"].startswith("text/event-stream")


def watch_job_finish(page: Any) -> None:
    """Progress and logs arrive live; at 100% the page shows the results."""
    expect(page.locator("#job-percent")).to_have_text("100%", timeout=TRAIN_TIMEOUT_MS)
    expect(page.locator("#job-state")).to_contain_text("succeeded", timeout=TRAIN_TIMEOUT_MS)
    expect(page.locator("#results")).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    expect(page.locator("#job-log li").first).to_be_visible()
    expect(page.locator("#results svg.bar-chart rect.bar").first).to_be_attached()


def promote_from_job_page(page: Any, model: str) -> int:
    button = page.get_by_role("button", name=re.compile(r"Promote v\d+ to production"))
    version = int(re.search(r"v(\d+)", button.inner_text()).group(1))  # type: ignore[union-attr]
    button.click()
    confirm_dialog(page)
    page.wait_for_url(re.compile(rf"/models/[^/]+/{model}\?notice=alias-set"))
    expect(page.locator("#alias-list")).to_contain_text(f"production → version {version}")
    return version
