"""The generation verbs of the ``llm`` runtime (see ``serving/verb_registry.py``).

* ``chat``: ``{"messages": [{"role", "content"}, ...], "max_tokens", "temperature", "top_p", "stop",
  "seed", "response_format", "stream"}`` -> ``{"message": {"role": "assistant", "content"},
  "finish_reason", "usage": {...}, "model", "version"}``
* ``complete``: the same with ``"prompt": "text"`` -> ``{"text", "finish_reason", "usage", ...}``

Both stream (``"stream": true``: Server-Sent Events of ``start``/``delta``/``end`` events) from
the model's ``GenerationPool``; closing the stream (the client went away) cancels the generation,
which stops within one token. The same handlers answer OpenAI's ``/v1/chat/completions`` and
``/v1/completions``. The fields are parsed in ``parameters.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from limelight.errors import ValidationFailed
from limelight.generation.parameters import chat_request, completion_request
from limelight.generation.requests import Finished, GenerationRequest, Started, Token
from limelight.verbs import Served, VerbHandler, VerbRegistry

__all__ = ["RUNTIMES", "register_verbs"]

RUNTIMES = frozenset({"llm"})


async def generation_events(runtime: Any, request: GenerationRequest) -> AsyncIterator[dict[str, Any]]:
    """The verb-contract events of one generation on ``runtime.pool``; closing this cancels it."""
    limit = runtime.pool.n_ctx
    if request.max_tokens > limit:
        raise ValidationFailed(f"max_tokens must be at most the model's context, {limit} tokens",
                               details={"field": "max_tokens", "limit": limit})
    stream = runtime.pool.submit(request)
    try:
        async for event in stream:
            if isinstance(event, Token):
                if event.text:
                    yield {"event": "delta", "text": event.text}
            elif isinstance(event, Started):
                yield {"event": "start", "prompt_tokens": event.prompt_tokens}
            elif isinstance(event, Finished):
                yield {"event": "end", "finish_reason": event.finish_reason,
                       "prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens}
    finally:
        stream.cancel()  # harmless after the end; stops a generation nobody reads any more


def _usage(result: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(result.get("prompt_tokens", 0)), int(result.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _chat_response(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    result = outputs[0]
    return {"message": {"role": "assistant", "content": result["text"]}, "finish_reason": result["finish_reason"],
            "usage": _usage(result), "model": served.model_ref, "version": served.version}


def _complete_response(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    result = outputs[0]
    return {"text": result["text"], "finish_reason": result["finish_reason"], "usage": _usage(result),
            "model": served.model_ref, "version": served.version}


def _one(parse: Callable[[dict[str, Any]], GenerationRequest]) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda body: [parse(body)]


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler("chat", parse=_one(chat_request), respond=_chat_response,
                                  runtimes=RUNTIMES, stream=generation_events))
    registry.register(VerbHandler("complete", parse=_one(completion_request), respond=_complete_response,
                                  runtimes=RUNTIMES, stream=generation_events))
