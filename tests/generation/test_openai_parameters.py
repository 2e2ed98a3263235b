"""Parsing chat and completion bodies into ``GenerationRequest`` (no model, no HTTP)."""

from __future__ import annotations

import pytest

from limelight.errors import InvalidParams, LimelightError, ResponseFormatUnsupported, ValidationFailed
from limelight.generation.parameters import DEFAULT_MAX_TOKENS, chat_request, completion_request

USER = [{"role": "user", "content": "Hi"}]


def test_openai_defaults_and_protocol_fields_are_accepted() -> None:
    request = chat_request({"model": "a/b", "messages": USER, "stream": True, "user": "u1",
                            "stream_options": {"include_usage": True}, "n": 1, "frequency_penalty": 0})
    assert request.messages == USER and request.max_tokens == DEFAULT_MAX_TOKENS
    assert (request.temperature, request.top_p, request.stop, request.seed, request.grammar) == (1.0, 1.0, (), None, None)


def test_text_parts_are_joined_and_the_newer_max_tokens_name_wins() -> None:
    request = chat_request({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"},
                                                                      {"type": "text", "text": "b"}]}],
                            "max_tokens": 5, "max_completion_tokens": 7, "stop": "\n"})
    assert request.messages == [{"role": "user", "content": "ab"}] and request.max_tokens == 7
    assert request.stop == ("\n",)


def test_seeds_fold_into_32_bits_without_reaching_the_random_seed() -> None:
    assert completion_request({"prompt": "x", "seed": 7}).seed == 7
    folded = {completion_request({"prompt": "x", "seed": s}).seed for s in (-1, 2**32 - 1, 2**40 + 3)}
    assert all(seed is not None and 0 <= seed < 2**32 - 1 for seed in folded) and len(folded) == 3


def test_a_one_prompt_list_is_a_prompt() -> None:
    assert completion_request({"prompt": ["hello"]}).prompt == "hello"


def test_response_formats_become_grammars() -> None:
    pytest.importorskip("llama_cpp")
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    request = chat_request({"messages": USER, "response_format": {"type": "json_schema",
                                                                  "json_schema": {"name": "r", "schema": schema}}})
    assert request.grammar is not None and "root ::=" in request.grammar and '\\"ok\\"' in request.grammar
    assert chat_request({"messages": USER, "response_format": {"type": "json_object"}}).grammar
    assert chat_request({"messages": USER, "response_format": {"type": "text"}}).grammar is None
    with pytest.raises(ResponseFormatUnsupported):
        chat_request({"messages": USER, "response_format": {"type": "json_schema",
                                                            "json_schema": {"schema": {"not": {}}}}})


@pytest.mark.parametrize(("body", "error", "field"), [
    ({"messages": [{"role": "developer", "content": "x"}]}, InvalidParams, "messages[0].role"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, InvalidParams, "messages[0].content"),
    ({"messages": "hi"}, ValidationFailed, "messages"),
    ({"messages": USER, "max_tokens": True}, ValidationFailed, "max_tokens"),
    ({"messages": USER, "max_completion_tokens": -1}, ValidationFailed, "max_completion_tokens"),
    ({"messages": USER, "temperature": float("nan")}, ValidationFailed, "temperature"),
    ({"messages": USER, "top_p": 1.5}, ValidationFailed, "top_p"),
    ({"messages": USER, "stop": [""]}, ValidationFailed, "stop"),
    ({"messages": USER, "n": 3}, InvalidParams, "n"),
    ({"messages": USER, "presence_penalty": 0.5}, InvalidParams, "presence_penalty"),
    ({"messages": USER, "logprobs": True}, InvalidParams, "logprobs"),
    ({"messages": USER, "stream": "yes"}, ValidationFailed, "stream"),
    ({"messages": USER, "prompt": "x"}, InvalidParams, "prompt"),
    ({"prompt": "x", "echo": True}, InvalidParams, "echo"),
])
def test_each_refusal_names_its_field(body: dict[str, object], error: type[LimelightError], field: str) -> None:
    parse = completion_request if "prompt" in body and "messages" not in body else chat_request
    with pytest.raises(error) as caught:
        parse(body)
    assert caught.value.details["field"] == field
