"""``/v1/chat/completions``, ``/v1/completions`` and the native ``:chat``/``:complete`` through a real
server, the real SmolLM2 GGUF on llama.cpp, and the official ``openai`` client (sync and async)."""

# ruff: noqa: F811 - fixtures imported from openai_support are parameters of the tests below

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import orjson
import pytest

from tests.generation.openai_support import client_for, gen_tenant, llm, ref  # noqa: F401 - fixtures
from tests.serving.conftest import Served
from tests.support.factories import ok
from tests.support.live_server import ADMIN_PASSWORD, LiveServer

openai = pytest.importorskip("openai")

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]


def sse_events(response: httpx.Response) -> list[Any]:
    """The ``data:`` payloads of a raw SSE body, ``[DONE]`` kept as the string."""
    events = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            data = block.removeprefix("data: ")
            events.append(data if data == "[DONE]" else orjson.loads(data))
    return events


def test_chat_whole_reply_has_openai_shape_and_real_usage(llm: Served) -> None:
    raw = client_for(llm.tenant).chat.completions.with_raw_response.create(
        model=ref(llm), messages=MESSAGES, max_tokens=6, seed=7)
    reply = raw.parse()
    assert raw.headers["limelight-model-version"] == "1"
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-") and reply.model == ref(llm)
    choice = reply.choices[0]
    assert choice.index == 0 and choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    usage = reply.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert 1 <= usage.completion_tokens <= 6 and (choice.finish_reason == "stop" or usage.completion_tokens == 6)
    assert usage.prompt_tokens > 10  # the chat template's tokens and both messages


def test_chat_stream_matches_the_whole_reply_for_the_same_seed(llm: Served) -> None:
    client = client_for(llm.tenant)
    whole = client.chat.completions.create(model=ref(llm), messages=MESSAGES, max_tokens=12, seed=11)
    chunks = list(client.chat.completions.create(model=ref(llm), messages=MESSAGES, max_tokens=12, seed=11,
                                                 stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].usage is None
    assert all(c.choices[0].finish_reason is None for c in chunks[:-2])
    assert chunks[-2].choices[0].finish_reason == whole.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == whole.usage.model_dump()
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == whole.choices[0].message.content


def test_same_seed_same_output_and_another_seed_differs(llm: Served) -> None:
    client = client_for(llm.tenant)

    def answer(seed: int) -> str:
        reply = client.chat.completions.create(model=ref(llm), messages=MESSAGES, max_tokens=10, seed=seed,
                                               temperature=1.5)
        return str(reply.choices[0].message.content)

    first = answer(3)
    assert answer(3) == first
    assert any(answer(seed) != first for seed in (4, 5))


def test_raw_stream_ends_with_done_and_no_usage_unless_asked(llm: Served) -> None:
    body = {"model": ref(llm), "messages": MESSAGES, "max_tokens": 3, "stream": True, "seed": 1}
    with httpx.Client(base_url=llm.tenant.server.url, timeout=60,
                      headers={"Authorization": f"Bearer {llm.tenant.key}"}) as http:
        response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"] and "content-length" not in response.headers
    events = sse_events(response)
    assert events[-1] == "[DONE]" and events[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert all("usage" not in e for e in events[:-1])


def test_completions_whole_and_streamed(llm: Served) -> None:
    client = client_for(llm.tenant)
    whole = client.completions.create(model=ref(llm), prompt="The capital of France is", max_tokens=5,
                                      temperature=0)
    assert whole.object == "text_completion" and whole.id.startswith("cmpl-") and "Paris" in whole.choices[0].text
    assert whole.usage.completion_tokens <= 5 and whole.usage.prompt_tokens >= 4
    chunks = list(client.completions.create(model=ref(llm), prompt="The capital of France is", max_tokens=5,
                                            temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_async_client_stream_and_whole(llm: Served) -> None:
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=f"{llm.tenant.server.url}/v1", api_key=llm.tenant.key,
                                      max_retries=0) as client:
            whole = await client.chat.completions.create(model=ref(llm), messages=MESSAGES, max_tokens=8, seed=5)
            stream = await client.chat.completions.create(model=ref(llm), messages=MESSAGES, max_tokens=8,
                                                          seed=5, stream=True)
            pieces = [c.choices[0].delta.content or "" async for c in stream]
            return str(whole.choices[0].message.content), "".join(pieces)

    whole, streamed = asyncio.run(run())
    assert whole and streamed == whole


def test_json_schema_response_format_gives_valid_json(llm: Served) -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["colour", "bright"],
              "properties": {"colour": {"enum": ["red", "green", "blue"]}, "bright": {"type": "boolean"}}}
    reply = client_for(llm.tenant).chat.completions.create(
        model=ref(llm), messages=MESSAGES, max_tokens=40, seed=2,
        response_format={"type": "json_schema", "json_schema": {"name": "colour", "schema": schema}})
    parsed = json.loads(str(reply.choices[0].message.content))
    assert parsed["colour"] in ("red", "green", "blue") and isinstance(parsed["bright"], bool)


def test_models_list_includes_the_llm(llm: Served) -> None:
    assert ref(llm) in {m.id for m in client_for(llm.tenant).models.list()}


def test_native_chat_verb_json_and_sse(llm: Served) -> None:
    with llm.client() as http:
        whole = ok(http.post(f"{llm.path}:chat", json={"messages": MESSAGES, "max_tokens": 6, "seed": 9}))
        streamed = http.post(f"{llm.path}:chat", json={"messages": MESSAGES, "max_tokens": 6, "seed": 9,
                                                        "stream": True})
        completed = ok(http.post(f"{llm.path}:complete?version=1",
                                 json={"prompt": "One, two,", "max_tokens": 3, "temperature": 0}))
    assert whole["message"]["role"] == "assistant" and whole["model"] == ref(llm) and whole["version"] == 1
    events = sse_events(streamed)
    assert events[0]["event"] == "start" and events[0]["model"] == ref(llm)
    assert events[0]["prompt_tokens"] == whole["usage"]["prompt_tokens"]
    assert "".join(e["text"] for e in events if e["event"] == "delta") == whole["message"]["content"]
    assert events[-1] == {"event": "end", "finish_reason": whole["finish_reason"],
                          "prompt_tokens": whole["usage"]["prompt_tokens"],
                          "completion_tokens": whole["usage"]["completion_tokens"]}
    assert completed["text"] and completed["usage"]["completion_tokens"] <= 3


def test_a_session_caller_streams_through_the_fastapi_route(sqlite_server: LiveServer, llm: Served) -> None:
    with httpx.Client(base_url=sqlite_server.url, timeout=60) as browser:
        login = ok(browser.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                             "org": llm.org}))
        response = browser.post("/v1/chat/completions", headers={"X-CSRF-Token": login["csrf_token"]},
                                json={"model": ref(llm), "messages": MESSAGES, "max_tokens": 4, "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant" and events[-1] == "[DONE]"
    assert response.headers["x-request-id"] and response.headers["x-content-type-options"] == "nosniff"
