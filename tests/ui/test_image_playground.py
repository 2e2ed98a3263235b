"""The image playground: pictures from the file picker (as a phone's camera roll hands them over)
go to the real ``:classify`` as a multipart upload, and the answer shows the label with bars."""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.ui.browser import screenshot, sign_in
from tests.ui.setup_api import make_org, session_client
from tests.vision.models import colour_classifier, picture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def colours_org(ui_server: LiveServer, admin: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An org whose image classifier ``colours`` tells red, green and blue pictures apart."""
    org = make_org(admin)
    artifact = colour_classifier(Path(tmp_path_factory.mktemp("image-playground")) / "colours.onnx").read_bytes()
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        created = api.post(f"/api/v1/orgs/{org}/models", json={"name": "colours", "task": "classify"})
        assert created.status_code == 201, created.text
        version = api.post(f"/api/v1/orgs/{org}/models/colours/versions", files={"file": ("colours.onnx", artifact)},
                           data={"meta": json.dumps({"runtime": "image-classifier"})})
        assert version.status_code == 201, version.text
    return org


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_picked_picture_is_classified(viewport, pages, ui_server, colours_org):  # type: ignore[no-untyped-def]
    page, _ = pages.new(viewport)
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, colours_org)
    page.goto("/playground/colours")
    picker = page.locator("#pg-images")
    assert picker.get_attribute("accept") == "image/*" and picker.get_attribute("multiple") is not None
    picker.set_input_files([{"name": "tomato.png", "mimeType": "image/png", "buffer": picture("red", size=(120, 90))},
                            {"name": "sky.jpg", "mimeType": "image/jpeg", "buffer": picture("blue", "JPEG")}])
    expect(page.locator("#image-previews img")).to_have_count(2)
    expect(page.locator("#image-previews img").first).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    page.get_by_role("button", name="Classify").click()
    answers = page.locator("#image-predictions li")
    expect(answers).to_have_count(2)
    expect(answers.nth(0)).to_have_attribute("data-label", "red")
    expect(answers.nth(1)).to_have_attribute("data-label", "blue")
    expect(answers.nth(0).locator("meter")).to_have_count(3)
    expect(answers.nth(0)).to_contain_text("tomato.png")
    expect(page.locator("#image-status")).to_contain_text("answered by version 1")
    screenshot(page, f"{viewport}-image-playground")


def test_a_file_that_is_not_a_picture_is_refused_by_name(pages, ui_server, colours_org):  # type: ignore[no-untyped-def]
    page, watch = pages.new()
    watch.expect(422, ":classify")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, colours_org)
    page.goto("/playground/colours")
    page.locator("#pg-images").set_input_files([
        {"name": "ok.png", "mimeType": "image/png", "buffer": picture("green")},
        {"name": "fake.png", "mimeType": "image/png", "buffer": b"not really a picture"}])
    page.get_by_role("button", name="Classify").click()
    expect(page.locator("#image-status")).to_contain_text("Refused (fake.png)")
    expect(page.locator("#image-predictions li")).to_have_count(0)
