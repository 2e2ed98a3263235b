"""The assistant's verbs on ``/v1/models/{org}/{name}:{verb}`` (see ``serving.verb_registry``).

``:ask``: ``{"question": str, "k": 1..10 (the version's k)}`` -> ``{"answer", "citations": [{"doc_id",
"title", "section", "passage", "score", "similarity", "cited"}], "abstained", "confidence", "model",
"version"}`` (plus ``finish_reason`` and ``usage`` when the LLM answered). It runs in a worker thread
(retrieval, then one generation in the runtime's own pool), not through the batcher.

Where the serving core streams verbs (``VerbHandler`` has a ``stream`` field), ``:ask`` with
``"stream": true`` answers as events, and a ``chat`` verb makes the assistant reachable as
``/v1/chat/completions`` (the last user message is the question): both are thin adapters over
``AssistantRuntime.ask_events``, whose ``end`` event carries ``citations``, ``abstained`` and
``confidence``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from limelight.assistant.runtime import parse_question
from limelight.errors import ValidationFailed
from limelight.verbs import Served, VerbHandler, VerbRegistry, count_tokens

RUNTIMES = frozenset({"assistant"})


def _ask(runtime: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [runtime.ask(**item) for item in items]


def _respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    count_tokens(outputs[0].get("usage"))  # the LLM's tokens, when it answered (metered to the caller)
    return {**outputs[0], "model": served.model_ref, "version": served.version}


async def ask_stream(runtime: Any, item: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    async for event in runtime.ask_events(item["question"], item.get("k")):
        yield event


def parse_chat(body: dict[str, Any]) -> list[dict[str, Any]]:
    """An OpenAI-style chat body as one question: the last user message's text."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValidationFailed("messages must be a non-empty list", details={"field": "messages"})
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if isinstance(content, list):  # content parts: keep the text ones
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    if not isinstance(content, str):
        raise ValidationFailed("the last user message must hold the question text", details={"field": "messages"})
    return [parse_question({"question": content})]


def _respond_chat(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    result = outputs[0]  # the folded events: {"text", "finish_reason", ..., "citations", "abstained"}
    return {**result, "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(verb="ask", runtimes=RUNTIMES, parse=lambda body: [parse_question(body)],
                                  call=_ask, respond=_respond, stream=ask_stream))
    registry.register(VerbHandler(verb="chat", runtimes=RUNTIMES, parse=parse_chat,
                                  respond=_respond_chat, stream=ask_stream))
