"""The body of a chat or completion request (native ``:chat``/``:complete`` and OpenAI's
``/v1/chat/completions``/``/v1/completions``, which share field names) -> a ``GenerationRequest``.

Every refusal names its field (``details.field``, OpenAI's ``param``): 422 ``validation_failed``
for a value of the wrong type or range, 400 ``invalid_params`` for what is understood but not
offered (``n`` > 1, tool roles, unknown fields, non-zero penalties). What needs the loaded model
(``max_tokens`` against its context, the prompt's length) is checked by the verbs.
"""

from __future__ import annotations

import math
from typing import Any

from limelight.errors import InvalidParams, ValidationFailed
from limelight.generation.grammar import json_schema_grammar
from limelight.generation.requests import GenerationRequest

__all__ = ["DEFAULT_MAX_TOKENS", "MAX_STOP_SEQUENCES", "chat_request", "completion_request"]

DEFAULT_MAX_TOKENS = 256  # OpenAI's default is "the rest of the context"; a bounded default is kinder
MAX_STOP_SEQUENCES = 4
_ROLES = ("system", "user", "assistant")
_SHARED = frozenset({"max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "n",
                     "response_format", "frequency_penalty", "presence_penalty", "logprobs",
                     # read by the protocol layer (which model; SSE or not; the caller's end user)
                     "model", "stream", "stream_options", "user"})
_CHAT = _SHARED | {"messages"}
_COMPLETION = _SHARED | {"prompt", "echo"}


def chat_request(body: dict[str, Any]) -> GenerationRequest:
    """``{"messages": [{"role", "content"}, ...], ...}``."""
    _known_fields(body, _CHAT)
    return GenerationRequest(messages=_messages(body.get("messages")), **_sampling(body))


def completion_request(body: dict[str, Any]) -> GenerationRequest:
    """``{"prompt": "text", ...}`` (a one-string list is accepted too, as OpenAI's client may send it)."""
    _known_fields(body, _COMPLETION)
    if body.get("echo"):
        raise InvalidParams("echo is not supported", details={"field": "echo"})
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise ValidationFailed("prompt must be a non-empty string", details={"field": "prompt"})
    return GenerationRequest(prompt=prompt, **_sampling(body))


def _known_fields(body: dict[str, Any], known: frozenset[str]) -> None:
    for name in body:
        if name not in known:
            raise InvalidParams(f"Unknown field {name!r}.", details={"field": name})


def _messages(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed("messages must be a non-empty array", details={"field": "messages"})
    return [_message(i, message) for i, message in enumerate(value)]


def _message(i: int, message: Any) -> dict[str, str]:
    if not isinstance(message, dict):
        raise ValidationFailed(f"messages[{i}] must be an object", details={"field": f"messages[{i}]"})
    role = message.get("role")
    if role not in _ROLES:
        raise InvalidParams(f"messages[{i}].role must be one of {', '.join(_ROLES)}, not {role!r}",
                            details={"field": f"messages[{i}].role"})
    return {"role": role, "content": _content(i, message.get("content"))}


def _content(i: int, content: Any) -> str:
    """A string, or OpenAI's list of ``{"type": "text", "text"}`` parts (joined); nothing else."""
    field = f"messages[{i}].content"
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        if any(p.get("type") != "text" or not isinstance(p.get("text"), str) for p in content):
            raise InvalidParams(f"{field}: only text parts are supported", details={"field": field})
        return "".join(p["text"] for p in content)
    raise ValidationFailed(f"{field} must be a string", details={"field": field})


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    _unsupported(body)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    return {
        "max_tokens": DEFAULT_MAX_TOKENS if max_tokens is None else _integer(max_tokens, field, minimum=1),
        "temperature": _number(body.get("temperature"), "temperature", 1.0, low=0.0, high=2.0),
        "top_p": _top_p(body.get("top_p")),
        "stop": _stop(body.get("stop")),
        "seed": _seed(body.get("seed")),
        "grammar": _grammar(body.get("response_format")),
    }


def _unsupported(body: dict[str, Any]) -> None:
    n = body.get("n")
    if n is not None and (_integer(n, "n", minimum=1) != 1):
        raise InvalidParams("n must be 1: one choice per request", details={"field": "n"})
    for penalty in ("frequency_penalty", "presence_penalty"):
        if body.get(penalty) not in (None, 0, 0.0):
            raise InvalidParams(f"{penalty} is not supported (only 0)", details={"field": penalty})
    if body.get("logprobs") not in (None, False):
        raise InvalidParams("logprobs is not supported", details={"field": "logprobs"})
    if body.get("stream") not in (None, True, False):
        raise ValidationFailed("stream must be a boolean", details={"field": "stream"})


def _integer(value: Any, field: str, *, minimum: int, maximum: int = 2**63 - 1) -> int:
    if isinstance(value, float) and value.is_integer():  # JSON's 16.0 is an integer too
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationFailed(f"{field} must be an integer of at least {minimum}", details={"field": field})
    return value


def _seed(value: Any) -> int | None:
    """Any 64-bit integer, folded into llama.cpp's 32 bits, never onto 0xFFFFFFFF ("random seed")."""
    if value is None:
        return None
    return _integer(value, "seed", minimum=-(2**63)) % (2**32 - 1)


def _number(value: Any, field: str, default: float, *, low: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValidationFailed(f"{field} must be a number in {low:g}..{high:g}", details={"field": field})
    return float(value)


def _top_p(value: Any) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationFailed("top_p must be a number in (0, 1]", details={"field": "top_p"})
    return float(value)


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or len(stops) > MAX_STOP_SEQUENCES \
            or any(not isinstance(s, str) or not s for s in stops):
        raise ValidationFailed(f"stop must be a non-empty string or up to {MAX_STOP_SEQUENCES} of them",
                               details={"field": "stop"})
    return tuple(stops)


def _grammar(value: Any) -> str | None:
    """``response_format``: text (free), json_object (any JSON object) or json_schema (that schema)."""
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return json_schema_grammar({"type": "object"})
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ValidationFailed("response_format.json_schema.schema must be a JSON schema object",
                                   details={"field": "response_format"})
        return json_schema_grammar(schema)
    raise ValidationFailed("response_format.type must be text, json_object or json_schema",
                           details={"field": "response_format"})
