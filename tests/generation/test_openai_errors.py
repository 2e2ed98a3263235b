"""Refusals of ``/v1/chat/completions`` and ``/v1/completions``: OpenAI-shaped, the field named, never a 500."""

# ruff: noqa: F811 - fixtures imported from openai_support are parameters of the tests below

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.generation.openai_support import client_for, gen_tenant, llm, ref, upload_llm  # noqa: F401 - fixtures
from tests.serving.conftest import Served, add_version, create_model, skops_bytes
from tests.support.factories import Tenant, new_tenant
from tests.support.live_server import LiveServer

openai = pytest.importorskip("openai")

USER = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def foreign_llm(sqlite_server: LiveServer) -> Served:
    """Another org's private LLM (never loaded: every call to it is refused before)."""
    return upload_llm(new_tenant(sqlite_server))


def raw_post(model: Served, path: str, body: Any) -> Any:
    client = client_for(model.tenant)
    return client.post(path, body=body, cast_to=httpx.Response)


def test_unknown_and_foreign_models_are_404_and_a_bad_key_401(llm: Served, foreign_llm: Served) -> None:
    client = client_for(llm.tenant)
    for missing in (f"{llm.org}/no-such-model", ref(foreign_llm), f"{ref(llm)}:9", f"{ref(llm)}:no-alias"):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model=missing, messages=USER, max_tokens=2)
        assert caught.value.type == "not_found_error" and caught.value.param == "model"
    with pytest.raises(openai.AuthenticationError) as bad_key:
        client_for(llm.tenant, key="ll_wrong").completions.create(model=ref(llm), prompt="x", max_tokens=2)
    assert bad_key.value.type == "authentication_error"


def test_a_model_that_does_not_generate_is_a_400_naming_model(gen_tenant: Tenant) -> None:
    classifier = create_model(gen_tenant)
    add_version(classifier, skops_bytes(), {"runtime": "sklearn"})
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(gen_tenant).chat.completions.create(model=ref(classifier), messages=USER)
    assert caught.value.param == "model" and caught.value.body["details"]["runtime"] == "sklearn"


@pytest.mark.parametrize(("path", "extra", "error", "param"), [
    ("/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, "BadRequestError", "messages[0].role"),
    ("/chat/completions", {"messages": []}, "UnprocessableEntityError", "messages"),
    ("/chat/completions", {"messages": [{"role": "user", "content": 3}]}, "UnprocessableEntityError",
     "messages[0].content"),
    ("/chat/completions", {"messages": USER, "max_tokens": 0}, "UnprocessableEntityError", "max_tokens"),
    ("/chat/completions", {"messages": USER, "max_tokens": 100_000}, "UnprocessableEntityError", "max_tokens"),
    ("/chat/completions", {"messages": USER, "n": 2}, "BadRequestError", "n"),
    ("/chat/completions", {"messages": USER, "temperature": 2.5}, "UnprocessableEntityError", "temperature"),
    ("/chat/completions", {"messages": USER, "top_p": 0}, "UnprocessableEntityError", "top_p"),
    ("/chat/completions", {"messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "UnprocessableEntityError", "stop"),
    ("/chat/completions", {"messages": USER, "seed": "x"}, "UnprocessableEntityError", "seed"),
    ("/chat/completions", {"messages": USER, "tools": []}, "BadRequestError", "tools"),
    ("/chat/completions", {"messages": USER, "stream_options": {"include_usage": True}}, "BadRequestError",
     "stream_options"),
    ("/chat/completions", {"messages": USER, "response_format": {"type": "xml"}}, "UnprocessableEntityError",
     "response_format"),
    ("/chat/completions", {"messages": USER, "response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"not": {"type": "string"}}}}}, "BadRequestError", "response_format"),
    ("/completions", {"prompt": ""}, "UnprocessableEntityError", "prompt"),
    ("/completions", {"prompt": "x", "model": "not a model"}, "UnprocessableEntityError", "model"),
])
def test_bad_input_is_a_clear_4xx(llm: Served, path: str, extra: dict[str, Any], error: str, param: str) -> None:
    with pytest.raises(getattr(openai, error)) as caught:
        raw_post(llm, path, {"model": ref(llm), **extra})
    assert caught.value.param == param
    assert set(caught.value.body) >= {"code", "message", "details", "request_id", "type", "param"}
    assert caught.value.type == "invalid_request_error"


def test_an_inexpressible_schema_says_why(llm: Served) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(llm.tenant).chat.completions.create(
            model=ref(llm), messages=USER, stream=True,
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/nope"}}})
    assert caught.value.code == "response_format_unsupported" and caught.value.body["details"]["reason"]


def test_a_malformed_body_is_422_naming_the_body(llm: Served) -> None:
    with httpx.Client(base_url=llm.tenant.server.url, timeout=30,
                      headers={"Authorization": f"Bearer {llm.tenant.key}", "Content-Type": "application/json"}) as http:
        broken = http.post("/v1/chat/completions", content=b'{"model": ')
        not_object = http.post("/v1/completions", content=b"[1, 2]")
    for response in (broken, not_object):
        assert response.status_code == 422
        assert response.json()["error"]["param"] == "body" and response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("stream", [False, True])
def test_a_prompt_over_the_context_is_a_400_with_the_limit_even_when_streaming(llm: Served, stream: bool) -> None:
    long_prompt = "word " * 2000
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(llm.tenant).completions.create(model=ref(llm), prompt=long_prompt, max_tokens=8, stream=stream)
    assert caught.value.code == "context_length_exceeded"
    details = caught.value.body["details"]
    assert details["limit"] == 512 and details["prompt_tokens"] > 512


def test_another_orgs_public_llm_is_listed_and_answers(llm: Served, sqlite_server: LiveServer) -> None:
    public = upload_llm(new_tenant(sqlite_server), visibility="public")
    client = client_for(llm.tenant)
    assert {ref(public), ref(llm)} <= {m.id for m in client.models.list()}
    reply = client.completions.create(model=ref(public), prompt="Once upon a time", max_tokens=2)
    assert reply.model == ref(public) and reply.usage.completion_tokens >= 1
