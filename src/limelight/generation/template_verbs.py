"""The ``:generate`` verb on ``/v1/models/{org}/{name}:generate`` for ``prompt-template`` models.

Body ``{"variables": {name: text}, "max_tokens"?, "temperature"?, "seed"?, "stream"?}``. An unknown,
missing or over-long variable is a 422 naming it (``details.variable``). The answer is
``{"text", "output", "finish_reason", "usage", "model", "version"}``: ``output`` is the parsed JSON
for ``json`` templates, ``{"abc", "midi_base64", "audio_base64", "audio_media_type"}`` for melodies
and null for text. With ``"stream": true`` the answer is
server-sent events: ``start``, ``delta`` (``text``), then ``end`` carrying ``finish_reason``, the
token counts and the same ``output`` fields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from limelight.errors import ValidationFailed
from limelight.verbs import Served, VerbHandler, VerbRegistry

RUNTIMES = frozenset({"prompt-template"})
_FIELDS = frozenset({"variables", "max_tokens", "temperature", "seed", "stream"})


def parse(body: dict[str, Any]) -> list[dict[str, Any]]:
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}; :generate takes {', '.join(sorted(_FIELDS))}",
                               details={"field": unknown[0]})
    if not isinstance(body.get("variables", {}), dict):
        raise ValidationFailed("variables must be an object of strings", details={"field": "variables"})
    return [{k: body[k] for k in ("variables", "max_tokens", "temperature", "seed") if k in body}]


def stream(runtime: Any, item: Any) -> AsyncIterator[dict[str, Any]]:
    events: AsyncIterator[dict[str, Any]] = runtime.stream(item)
    return events


def respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    """The folded stream (``text`` + the end event's fields) as the :generate answer."""
    result = dict(outputs[0])
    prompt, completion = int(result.pop("prompt_tokens", 0)), int(result.pop("completion_tokens", 0))
    return {**result, "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion},
            "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    # No ``call``: a request without "stream": true is the same stream folded into one answer.
    registry.register(VerbHandler(verb="generate", runtimes=RUNTIMES, parse=parse, respond=respond, stream=stream))
