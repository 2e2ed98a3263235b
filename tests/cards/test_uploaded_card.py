"""An uploader records an example call and limitations in a version's meta: the card shows them,
and for a chat model adds an `openai` client snippet; every snippet runs against a live server
(the real SmolLM2 GGUF on llama.cpp)."""

from __future__ import annotations

import json

import pytest

from tests.generation.openai_support import LLM_PARAMS, smollm2_path
from tests.serving.conftest import create_model
from tests.support.factories import error_code, new_tenant, ok
from tests.support.snippets import run_snippets

EXAMPLE = {"verb": "chat", "body": {"messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 8}}


@pytest.fixture(scope="module")
def chat_model(sqlite_server):  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    pytest.importorskip("openai")
    tenant = new_tenant(sqlite_server)
    model = create_model(tenant, task="generate")
    meta = {"runtime": "llm", "params": {**LLM_PARAMS, "max_queue": 4}, "example": EXAMPLE,
            "limitations": ["A 135M-parameter model: short, often wrong answers."]}
    with tenant.client() as client, smollm2_path().open("rb") as artifact:
        client.timeout = 300
        ok(client.post(f"/api/v1/orgs/{model.org}/models/{model.name}/versions",
                       files={"file": ("model.gguf", artifact)}, data={"meta": json.dumps(meta)}))
    return tenant, model


def test_the_uploaders_example_and_limitations_make_the_card(chat_model):
    tenant, model = chat_model
    with tenant.client() as client:
        card = ok(client.get(f"/api/v1/orgs/{model.org}/models/{model.name}/card"))
        bad = client.post(f"/api/v1/orgs/{model.org}/models/{model.name}/versions",
                          files={"file": ("m.json", b"{}")},
                          data={"meta": json.dumps({"runtime": "llm", "example": {"verb": "Chat!", "body": {}}})})
    assert card["example"] == EXAMPLE and "short, often wrong answers" in card["facts"]
    assert "outside limelight" in card["facts"] and "latency" not in card["facts"]  # no run, so no probe
    assert {s["kind"] for s in card["snippets"]} == {"curl", "python", "cli", "openai"}
    assert bad.status_code == 422 and error_code(bad) == "validation_failed"


def test_every_snippet_of_a_chat_model_runs_including_the_openai_client(chat_model):
    tenant, model = chat_model
    with tenant.client() as client:
        card = ok(client.get(f"/api/v1/orgs/{model.org}/models/{model.name}/card"))
    answers = run_snippets(card, tenant.key)
    assert set(answers) == {"curl", "python", "cli", "openai"}  # each printed the model's answer
    for kind in ("curl", "cli"):
        assert answers[kind]["message"]["content"] and answers[kind]["version"] == 1, answers[kind]
