""":ask end to end through a real server: upload the shipped help centre as a zip, train
assistant/rag through the jobs API, and ask it (the real MiniLM, llama.cpp and SmolLM2)."""

from __future__ import annotations

import io
import time

import pytest

from limelight.assistant.answering import ABSTAIN_ANSWER
from limelight.assistant.shipped import write_zip
from tests.assistant import documents_data as data
from tests.support.factories import error_code, new_tenant, ok, wait_for_job
from tests.support.snippets import card_of, run_snippets


@pytest.fixture(scope="module")
def assistant_tenant(assistant_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    tenant = new_tenant(assistant_server)
    org = tenant.org
    archive = write_zip(tmp_path_factory.mktemp("kb") / "help-center.zip").read_bytes()
    with tenant.client() as client:
        dataset = ok(client.post(f"/api/v1/orgs/{org}/datasets",
                                 files={"file": ("help-center.zip", archive, "application/zip")},
                                 data={"name": "help", "kind": "documents"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "assistant/rag", "dataset": "help", "model": "support", "promote": "production",
            "params": {"max_tokens": 12}}))
        done = wait_for_job(client, org, job["id"], timeout_s=600)
        assert done["state"] == "succeeded", done.get("error") or done
        _wait_until_loaded(client, org)
    tenant.dataset = dataset  # type: ignore[attr-defined]
    tenant.job = done  # type: ignore[attr-defined]
    return tenant


def _wait_until_loaded(client, org: str, timeout_s: float = 600) -> None:  # type: ignore[no-untyped-def]
    """The first request loads the version (sandbox check, MiniLM, llama.cpp): 504 until it is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = _ask(client, org, {"question": "Who is the CEO of Reelwave?"})
        if response.status_code != 504:
            assert response.status_code == 200, response.text
            return
        time.sleep(2)
    raise AssertionError("the assistant did not load")


def _ask(client, org: str, body: object, model: str = "support"):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/models/{org}/{model}:ask", json=body, timeout=300)


def test_the_zip_upload_is_a_documents_version_with_a_file_report(assistant_tenant):
    version = assistant_tenant.dataset
    assert version["source_format"] == "zip" and version["rows"] == 45
    files = version["profile"]["files"]
    assert {"path": "articles/refunds.md", "status": "ok", "doc_id": "refunds"} in files
    metrics = assistant_tenant.job["result"]["metrics"]
    assert metrics["documents"] == 45 and metrics["passages"] > 45 and metrics["self_retrieval@3"] >= 0.9


def test_an_answerable_question_is_answered_by_the_llm_with_citations(assistant_tenant):
    org = assistant_tenant.org
    with assistant_tenant.client() as client:
        body = ok(_ask(client, org, {"question": "How much does the Premium plan cost per month?"}))
    assert body["abstained"] is False and body["answer"].strip() and body["answer"] != ABSTAIN_ANSWER
    assert body["model"] == f"{org}/support" and body["version"] == 1
    assert body["usage"]["completion_tokens"] <= 12  # the version's max_tokens
    assert [c["doc_id"] for c in body["citations"]][0] == "plans-and-prices"
    assert len(body["citations"]) == 3 and all(c["passage"].strip() for c in body["citations"])
    assert {"doc_id", "title", "passage", "score"} <= set(body["citations"][0])


def test_a_question_outside_the_documents_abstains_without_generating(assistant_tenant):
    with assistant_tenant.client() as client:
        body = ok(_ask(client, assistant_tenant.org, {"question": "Who is the CEO of Reelwave?", "k": 2}))
    assert body["abstained"] is True and body["answer"] == ABSTAIN_ANSWER
    assert len(body["citations"]) == 2 and "usage" not in body  # best passages, no LLM call


def test_the_openai_chat_route_reaches_the_assistant_with_its_citations(assistant_tenant):
    import openai

    client = openai.OpenAI(base_url=f"{assistant_tenant.server.url}/v1", api_key=assistant_tenant.key,
                           max_retries=0, timeout=300)
    model = f"{assistant_tenant.org}/support"
    question = [{"role": "user", "content": "How much does the Premium plan cost per month?"}]
    answer = client.chat.completions.create(model=model, messages=question)
    assert answer.choices[0].message.content.strip()
    extra = answer.model_extra or {}
    assert extra["abstained"] is False and extra["citations"][0]["doc_id"] == "plans-and-prices"
    assert answer.usage is not None and 0 < answer.usage.completion_tokens <= 12
    streamed = client.chat.completions.create(model=model, messages=question, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)
    assert text == answer.choices[0].message.content  # greedy: the same answer, streamed


@pytest.mark.parametrize("body, field", [
    ({"question": "   "}, "question"), ({"k": 3}, "question"), ({"question": 7}, "question"),
    ({"question": "refunds?", "k": 0}, "k"), ({"question": "refunds?", "k": True}, "k"),
    ({"question": "refunds?", "colour": "red"}, "colour"),
])
def test_bad_questions_get_422_naming_the_field(assistant_tenant, body, field):
    with assistant_tenant.client() as client:
        response = _ask(client, assistant_tenant.org, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_another_tenant_cannot_ask_a_private_assistant(assistant_tenant, assistant_server):
    other = new_tenant(assistant_server)
    with other.client() as client:
        response = _ask(client, assistant_tenant.org, {"question": "How do I cancel?"})
    assert response.status_code == 404


@pytest.mark.parametrize("payload, filename, status, code", [
    (data.zip_of({"kb/../../escape.md": data.MARKDOWN}), "kb.zip", 422, "archive_unsafe"),
    (data.zip_of({"bomb.txt": b"0" * (20 << 20)}), "kb.zip", 413, "archive_too_large"),
    (data.zip_of({"logo.png": b"\x89PNG"}), "kb.zip", 422, "dataset_invalid"),
])
def test_hostile_or_empty_uploads_are_refused_and_leave_no_dataset(sqlite_server, payload, filename, status, code):
    tenant = new_tenant(sqlite_server)
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (filename, io.BytesIO(payload))},
                               data={"name": "kb", "kind": "documents"})
        assert response.status_code == status, response.text
        assert error_code(response) == code
        assert client.get(f"/api/v1/orgs/{tenant.org}/datasets/kb").status_code == 404


def test_the_cards_snippets_ask_the_assistant_as_printed(assistant_tenant):
    card = card_of(assistant_tenant, "support")
    assert card["example"]["verb"] == "chat" and card["example"]["body"]["messages"][0]["role"] == "user"
    assert "calls of the example, measured at registration" in card["facts"]
    answers = run_snippets(card, assistant_tenant.key, timeout_s=300)
    assert set(answers) == {"curl", "python", "cli", "openai"}
    for kind in ("curl", "python", "cli"):  # the assistant's own fields come through the chat verb
        assert answers[kind]["text"] and "citations" in answers[kind] and "abstained" in answers[kind], kind
