"""Tokens of real generations (SmolLM2 on llama.cpp) metered to the calling org: OpenAI's chat
completions whole and streamed, and the native ``:complete`` verb, on another org's public model."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.factories import new_tenant, ok
from tests.support.live_server import LiveServer

pytest.importorskip("llama_cpp")
pytest.importorskip("gguf")


def test_generated_tokens_are_metered_to_the_caller_streamed_or_not(sqlite_server: LiveServer) -> None:
    from tests.generation.openai_support import LLM_PARAMS, ref, upload_llm

    owner, caller = new_tenant(sqlite_server), new_tenant(sqlite_server)
    model = upload_llm(owner, {**LLM_PARAMS, "max_queue": 2}, visibility="public")
    chat = {"model": ref(model), "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4, "seed": 1}
    prompt = completion = 0
    with caller.client() as client:
        client.timeout = 120
        whole = ok(client.post("/v1/chat/completions", json=chat))["usage"]
        with client.stream("POST", "/v1/chat/completions",
                           json={**chat, "stream": True, "stream_options": {"include_usage": True}}) as streamed:
            chunks = [json.loads(line[6:]) for line in streamed.iter_lines() if line.startswith("data: {")]
        last = chunks[-1]["usage"]
        native = ok(client.post(f"/v1/models/{ref(model)}:complete", json={"prompt": "1, 2, 3,", "max_tokens": 3}))
        for usage in (whole, last, native["usage"]):
            assert usage["completion_tokens"] > 0
            prompt, completion = prompt + usage["prompt_tokens"], completion + usage["completion_tokens"]
        deadline = time.monotonic() + 15
        while True:
            models = ok(client.get(f"/api/v1/orgs/{caller.org}/usage", params={"days": 1}))["models"]
            if models and models[0]["requests"] == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert models == [{"model": ref(model), "requests": 3, "client_errors": 0, "server_errors": 0,
                       "prompt_tokens": prompt, "completion_tokens": completion}]
    with owner.client() as client:  # the owner generated nothing itself
        assert ok(client.get(f"/api/v1/orgs/{owner.org}/usage", params={"days": 1}))["models"] == []
