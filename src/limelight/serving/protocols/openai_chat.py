"""OpenAI's text generation: ``POST /v1/chat/completions`` and ``POST /v1/completions``.

``model`` is ``org/name[:alias|:version]`` as for embeddings (``openai.split_model``). The resolved
version's runtime answers through its ``chat`` or ``complete`` verb (``VerbHandler.stream``, see
``verb_registry``), so any domain that registers those verbs with a stream (an LLM, a support
assistant) is reachable here; the body is the verb's to parse and check.

Replies have OpenAI's shapes: ``chat.completion`` / ``text_completion`` with ``usage`` (the model's
real token counts); with ``"stream": true``, Server-Sent Events of ``chat.completion.chunk`` (the
first carries ``delta.role``, the last ``finish_reason``) or ``text_completion`` chunks, then
``data: [DONE]``. ``stream_options.include_usage`` adds a last chunk with empty ``choices`` and the
usage (and ``"usage": null`` on the others). Fields a domain adds to its ``end`` event
(``citations``) are top-level fields of the reply, or of the chunk carrying ``finish_reason``.

Errors are OpenAI-shaped (``openai.openai_error``): before the first byte a normal reply (a prompt
over the context is a 400 naming the limit; a full queue a 503 with Retry-After; a timeout a 504),
after it a last ``data: {"error": ...}`` event. A client that disconnects stops its generation, streamed
(within a token) or not, or while it waits in the queue (``Endpoint.cancellable``; on the fast
path, where API-key callers go). Needs the ``predict`` scope.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from limelight.errors import InvalidParams, NotFound, ValidationFailed
from limelight.schemas.openai import (
    MODEL_REF_PATTERN,
    ChatCompletion,
    ChatCompletionRequest,
    CompletionRequest,
    OpenAIErrorBody,
    TextCompletion,
)
from limelight.server.deps import Predictor
from limelight.serving.protocols.http import (
    Endpoint,
    HttpCall,
    HttpReply,
    json_reply,
    run_from_fastapi,
    stream_reply,
)
from limelight.serving.protocols.openai import openai_error, split_model
from limelight.serving.protocols.streaming import SSE_DONE, sse_data
from limelight.serving.protocols.v1 import ROUTING_KEY_HEADER, VERSION_HEADER
from limelight.serving.streams import collect, open_stream

if TYPE_CHECKING:
    from limelight.auth.principal import Principal
    from limelight.serving.engine import ServingEngine, Target
    from limelight.verbs import VerbHandler
__all__ = ["CHAT_PATH", "COMPLETIONS_PATH", "ENDPOINTS", "router"]

Event = dict[str, Any]
_COUNTS = frozenset({"event", "text", "finish_reason", "prompt_tokens", "completion_tokens"})
_MODEL_REF = re.compile(MODEL_REF_PATTERN)


@dataclass(frozen=True)
class _Kind:
    """What differs between chat and plain completions."""

    verb: str
    object: str
    chunk_object: str
    id_prefix: str
    choice: Callable[[str], dict[str, Any]]  # the whole answer's choice, minus index/finish_reason
    piece: Callable[[str], dict[str, Any]]  # one streamed piece's choice, likewise
    first: dict[str, Any] | None  # the choice of the chunk sent when generation starts, if any


_CHAT = _Kind("chat", "chat.completion", "chat.completion.chunk", "chatcmpl-",
              choice=lambda text: {"message": {"role": "assistant", "content": text, "refusal": None}},
              piece=lambda text: {"delta": {"content": text}},
              first={"delta": {"role": "assistant", "content": ""}})
_TEXT = _Kind("complete", "text_completion", "text_completion", "cmpl-",
              choice=lambda text: {"text": text}, piece=lambda text: {"text": text}, first=None)


async def chat_completions(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    return await _generate(engine, principal, call, _CHAT)


async def completions(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    return await _generate(engine, principal, call, _TEXT)


async def _generate(engine: ServingEngine, principal: Principal | None, call: HttpCall, kind: _Kind) -> HttpReply:
    assert principal is not None
    body = call.json_object()
    org, name, version, alias = split_model(_model_ref(body.get("model")))
    include_usage = _include_usage(body)
    await engine.check_limits(principal)
    try:
        target = await engine.resolve(principal, org, name, version=version, alias=alias,
                                      routing_key=call.headers.get(ROUTING_KEY_HEADER), body=body)
    except NotFound as exc:
        exc.details.setdefault("field", "model")
        raise
    call.served_by(target)
    handler = _handler(engine, target, kind)
    item = handler.parse(body)[0]
    reply = _Reply(kind, f"{kind.id_prefix}{uuid.uuid4().hex}", int(time.time()), target.served.model_ref)
    headers = [(VERSION_HEADER, call.version.encode())]
    if body.get("stream") is not True:
        return json_reply(reply.whole(await collect(engine, target, handler, item)), headers=headers)
    events = await open_stream(engine, target, handler, item)
    return stream_reply(reply.chunks(events, include_usage), headers)


def _model_ref(value: Any) -> str:
    if not isinstance(value, str) or not _MODEL_REF.match(value):
        raise ValidationFailed("model must be 'org/name', 'org/name:alias' or 'org/name:version'",
                               details={"field": "model"})
    return value


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if body.get("stream") is not True:
        raise InvalidParams("stream_options needs \"stream\": true", details={"field": "stream_options"})
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
        raise ValidationFailed("stream_options must be {\"include_usage\": boolean}",
                               details={"field": "stream_options"})
    return bool(options.get("include_usage", False))


def _handler(engine: ServingEngine, target: Target, kind: _Kind) -> VerbHandler:
    runtime = target.served.runtime
    try:
        handler = engine.verbs.lookup(kind.verb, runtime)
    except NotFound:
        handler = None
    if handler is None or handler.stream is None:
        raise InvalidParams(f"{target.served.model_ref} is a {runtime} model; it does not generate text.",
                            details={"field": "model", "runtime": runtime})
    return handler


@dataclass(frozen=True)
class _Reply:
    """One request's id, time and model, and the OpenAI objects built from its events."""

    kind: _Kind
    id: str
    created: int
    model: str

    def whole(self, result: Event) -> dict[str, Any]:
        choice = {"index": 0, **self.kind.choice(result["text"]), "logprobs": None,
                  "finish_reason": result["finish_reason"]}
        return {**self._head(self.kind.object), "choices": [choice], "usage": _usage(result), **_extras(result)}

    async def chunks(self, events: AsyncIterator[Event], include_usage: bool) -> AsyncIterator[bytes]:
        usage: dict[str, Any] = {"usage": None} if include_usage else {}
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                kind = event.get("event")
                if kind == "start" and self.kind.first is not None:
                    yield sse_data(self._chunk(self.kind.first, None, usage))
                elif kind == "delta" and event.get("text"):
                    yield sse_data(self._chunk(self.kind.piece(event["text"]), None, usage))
                elif kind == "end":
                    empty: dict[str, Any] = {"delta": {}} if self.kind is _CHAT else {"text": ""}
                    yield sse_data({**self._chunk(empty, event.get("finish_reason"), usage), **_extras(event)})
                    if include_usage:
                        yield sse_data({**self._head(self.kind.chunk_object), "choices": [], "usage": _usage(event)})
        yield SSE_DONE

    def _chunk(self, choice: dict[str, Any], finish_reason: str | None, usage: dict[str, Any]) -> dict[str, Any]:
        whole = {"index": 0, **choice, "logprobs": None, "finish_reason": finish_reason}
        return {**self._head(self.kind.chunk_object), "choices": [whole], **usage}

    def _head(self, object_name: str) -> dict[str, Any]:
        return {"id": self.id, "object": object_name, "created": self.created, "model": self.model,
                "system_fingerprint": None}


def _usage(result: Event) -> dict[str, int]:
    prompt, completion = int(result.get("prompt_tokens", 0)), int(result.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _extras(result: Event) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in _COUNTS}


CHAT_PATH = re.compile(r"^/v1/chat/completions$")
COMPLETIONS_PATH = re.compile(r"^/v1/completions$")
ENDPOINTS = [
    Endpoint("openai:chat", "POST", CHAT_PATH, chat_completions, render_error=openai_error, cancellable=True),
    Endpoint("openai:completions", "POST", COMPLETIONS_PATH, completions, render_error=openai_error,
             cancellable=True),
]

# ---- the FastAPI routes: OpenAPI, and callers without a key ------------------------------------

router = APIRouter(tags=["openai"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIErrorBody} for status in (400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)}
_SSE = {"text/event-stream": {"schema": {"type": "string", "description": "data: {chunk} lines, then data: [DONE]"}}}


def _body(schema: type[ChatCompletionRequest | CompletionRequest]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": schema.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


@router.post("/v1/chat/completions", response_model=ChatCompletion, openapi_extra=_body(ChatCompletionRequest),
             responses={**_ERRORS, 200: {"content": _SSE}})
async def chat_completions_route(request: Request, principal: Predictor) -> Response:
    """Answer a conversation with a text-generation model (OpenAI's shape; see the module docstring)."""
    return await run_from_fastapi(request, ENDPOINTS[0], principal, {})


@router.post("/v1/completions", response_model=TextCompletion, openapi_extra=_body(CompletionRequest),
             responses={**_ERRORS, 200: {"content": _SSE}})
async def completions_route(request: Request, principal: Predictor) -> Response:
    """Continue a prompt with a text-generation model (OpenAI's shape; see the module docstring)."""
    return await run_from_fastapi(request, ENDPOINTS[1], principal, {})
