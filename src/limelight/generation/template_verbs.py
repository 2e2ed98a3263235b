"""The ``:generate`` verb on ``/v1/models/{org}/{name}:generate`` for ``prompt-template`` models.

Body ``{"variables": {name: text}, "max_tokens"?, "temperature"?, "seed"?, "stream"?}``. An unknown,
missing or over-long variable is a 422 naming it (``details.variable``). The answer is
``{"text", "output", "finish_reason", "usage", "model", "version"}``: ``output`` is the parsed JSON
for ``json`` templates, ``{"abc", "midi_base64", "audio_base64", "audio_media_type"}`` for melodies
and null for text. With ``"stream": true`` (where the serving core streams verbs) the answer is
server-sent events: ``start``, ``delta`` (``text``), then ``end`` carrying ``finish_reason``, the
token counts and the same ``output`` fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from limelight.errors import ValidationFailed

if TYPE_CHECKING:
    from limelight.serving.verb_registry import Served, VerbRegistry

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


def call(runtime: Any, items: list[Any]) -> list[Any]:
    return [runtime.generate(item) for item in items]


def stream(runtime: Any, item: Any) -> AsyncIterator[dict[str, Any]]:
    result: AsyncIterator[dict[str, Any]] = runtime.stream(item)
    return result


def respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    return {**outputs[0], "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    from limelight.serving.verb_registry import VerbHandler

    extra: dict[str, Any] = {}
    if "stream" in {f.name for f in dataclasses.fields(VerbHandler)}:  # serving cores that stream verbs
        extra["stream"] = stream
    registry.register(VerbHandler(verb="generate", runtimes=RUNTIMES, parse=parse, call=call, respond=respond,
                                  **extra))
