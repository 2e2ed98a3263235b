"""Generation in the console: the chat playground streams from an LLM, a template's form generates
(JSON output shown parsed), and the support assistant shows its answer with the cited passages.
Everything goes through the real API with the browser's session (real llama.cpp and SmolLM2)."""

from __future__ import annotations

import json
import time
from contextlib import closing
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.generation.openai_support import smollm2_path
from tests.support.factories import wait_for_job
from tests.support.live_server import ADMIN_PASSWORD, LiveServer
from tests.ui.browser import screenshot, sign_in
from tests.ui.setup_api import make_org, session_client

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest.importorskip("llama_cpp")

LLM_PARAMS = {"n_ctx": 1024, "n_threads": 1, "concurrency": 1, "max_queue": 4}
SLOW_MS = 240_000  # a loaded 2-core machine may need minutes to load and answer


def _new_version(api: httpx.Client, org: str, name: str, filename: str, data: bytes, meta: dict[str, Any]) -> None:
    created = api.post(f"/api/v1/orgs/{org}/models", json={"name": name, "task": "generate"})
    assert created.status_code == 201, created.text
    version = api.post(f"/api/v1/orgs/{org}/models/{name}/versions", files={"file": (filename, data)},
                       data={"meta": json.dumps(meta)}, timeout=300)
    assert version.status_code == 201, version.text


@pytest.fixture(scope="module")
def studio(ui_server: LiveServer, admin: httpx.Client) -> str:
    """An org with SmolLM2 (`writer`) and the built-in character sheet template generating with it."""
    from limelight.generation.builtin_templates import builtin_template_bytes

    org = make_org(admin)
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        _new_version(api, org, "writer", "model.gguf", smollm2_path().read_bytes(),
                     {"runtime": "llm", "params": LLM_PARAMS})
        sheet = json.loads(builtin_template_bytes("character-sheet"))
        sheet["base_model"] = f"{org}/writer"
        _new_version(api, org, "character-sheet", "template.json", json.dumps(sheet).encode(),
                     {"runtime": "prompt-template", "params": {}})
    return org


def test_chat_playground_streams_an_answer_with_the_chosen_settings(pages, ui_server, studio):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, studio)
    page.goto("/playground/writer")
    page.get_by_label("Max tokens").fill("8")
    page.get_by_label("Temperature").fill("0")
    page.get_by_label("Message", exact=True).fill("Name a famous film director.")
    page.get_by_role("button", name="Send").click()
    answer = page.locator("#chat-log li[data-role=assistant] .chat-text")
    expect(page.locator("#chat-status")).to_contain_text("tokens in", timeout=SLOW_MS)
    first = answer.inner_text().strip()
    assert first
    status = page.locator("#chat-status").inner_text()
    assert 1 <= int(status.split()[0]) <= 8  # usage from the stream, held to max_tokens
    # a second turn carries the first in the history and is answered too
    page.get_by_label("Message", exact=True).fill("And another one?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-log li")).to_have_count(4)
    expect(page.locator("#chat-status")).to_contain_text("tokens in", timeout=SLOW_MS)
    screenshot(page, "desktop-chat-playground")


def test_template_playground_fills_the_form_and_shows_parsed_json(pages, ui_server, studio):
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, studio)
    page.goto("/playground/character-sheet")
    fields = page.locator("[data-variable]")
    assert fields.count() >= 1
    for i in range(fields.count()):
        if fields.nth(i).get_attribute("required") is not None:
            fields.nth(i).fill("a retired space pirate")
    page.locator("details summary").click()
    page.get_by_label("Max tokens").fill("400")
    page.get_by_label("Seed (empty for random)").fill("3")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#template-status")).to_contain_text("Done", timeout=SLOW_MS)
    shown = page.locator("#template-json")
    if "length" in page.locator("#template-status").inner_text():
        pytest.fail("the character sheet was cut short by max_tokens; raise it")
    expect(shown).to_be_visible()
    assert isinstance(json.loads(shown.inner_text()), dict)  # the grammar-constrained output, parsed
    screenshot(page, "phone-template-playground")


@pytest.fixture(scope="module")
def helpdesk(ui_server: LiveServer, admin: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An org whose assistant `support` answers from the shipped help centre."""
    from limelight.assistant.shipped import write_zip

    org = make_org(admin)
    archive = write_zip(tmp_path_factory.mktemp("kb") / "help.zip").read_bytes()
    with closing(session_client(ui_server.url, "admin", ADMIN_PASSWORD, org)) as api:
        uploaded = api.post(f"/api/v1/orgs/{org}/datasets", data={"name": "help", "kind": "documents"},
                            files={"file": ("help.zip", archive, "application/zip")})
        assert uploaded.status_code == 201, uploaded.text
        job = api.post(f"/api/v1/orgs/{org}/jobs", json={"recipe": "assistant/rag", "dataset": "help",
                                                          "model": "support", "promote": "production",
                                                          "params": {"max_tokens": 12}})
        assert job.status_code == 201, job.text
        assert wait_for_job(api, org, job.json()["id"], timeout_s=600)["state"] == "succeeded"
        _warm_up(api, f"/v1/models/{org}/support:ask")
    return org


def _warm_up(api: httpx.Client, url: str, timeout_s: float = 600) -> None:
    """The first call loads the version (sandbox check, MiniLM, llama.cpp) and answers 503/504 until then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = api.post(url, json={"question": "Who is the CEO of Reelwave?"}, timeout=300)
        if response.status_code not in (503, 504):
            assert response.status_code == 200, response.text
            return
        time.sleep(2)
    raise AssertionError("the assistant did not load")


def test_assistant_playground_shows_the_answer_and_its_sources(pages, ui_server, helpdesk):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, helpdesk)
    page.goto("/playground/support")
    page.get_by_label("What a customer asks").fill("How much does the Premium plan cost per month?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#ask-status")).to_contain_text("Answered by version 1", timeout=SLOW_MS)
    expect(page.locator("#ask-citations li").first).to_have_attribute("data-doc", "plans-and-prices")
    assert page.locator("#ask-answer").inner_text().strip()
    page.get_by_label("What a customer asks").fill("Who is the CEO of Reelwave?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#ask-status")).to_contain_text("do not answer this", timeout=SLOW_MS)
    expect(page.locator("#ask-citations li").first).to_be_visible()
    screenshot(page, "desktop-assistant-playground")
