"""The built-in verbs of ``/v1/models/{org}/{name}:{verb}`` (see ``verb_registry.VerbHandler``).

* ``predict`` (every runtime): ``{"inputs": [item, ...]}`` -> ``{"outputs": [...], "model", "version"}``
* ``embed`` (sentence-embedding): ``{"inputs": ["text", ...]}`` -> ``{"embeddings": [[...]], ...}``
* ``recommend`` (recommender): ``{"user_id", "k", "exclude_seen", "filters"}`` ->
  ``{"items": [...], "fallback": bool, "model", "version"}``

Other packages add theirs (``similar``, ``explain``, ``classify``, ...) through
their domain's entry in ``limelight.domains``, without changes here.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import ValidationFailed
from limelight.verbs import Served, VerbHandler, VerbRegistry, shown_item_ids

MAX_INPUTS = 1024
_RECOMMEND_FIELDS = ("user_id", "k", "exclude_seen", "filters")


def inputs_list(body: dict[str, Any], field: str = "inputs") -> list[Any]:
    """``body[field]`` as a non-empty list of at most ``MAX_INPUTS`` items."""
    items = body.get(field)
    if not isinstance(items, list) or not items:
        raise ValidationFailed(f"{field} must be a non-empty array", details={"field": field})
    if len(items) > MAX_INPUTS:
        raise ValidationFailed(f"at most {MAX_INPUTS} {field} per request", details={"field": field})
    return items


def _predict_response(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    return {"outputs": outputs, "model": served.model_ref, "version": served.version}


def _embed_inputs(body: dict[str, Any]) -> list[Any]:
    if "input" in body and "inputs" not in body:  # the OpenAI spelling, one text or several
        value = body["input"]
        return inputs_list({"input": value if isinstance(value, list) else [value]}, "input")
    return inputs_list(body)


def _embed_response(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    return {"embeddings": outputs, "model": served.model_ref, "version": served.version}


def _recommend_inputs(body: dict[str, Any]) -> list[Any]:
    return [{k: body[k] for k in _RECOMMEND_FIELDS if k in body}]


def _recommend_response(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    result = outputs[0] if isinstance(outputs[0], dict) else {"items": outputs[0]}
    return {"items": result.get("items", []), "fallback": bool(result.get("fallback", False)),
            "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler("predict", parse=inputs_list, respond=_predict_response))
    registry.register(VerbHandler("embed", parse=_embed_inputs, respond=_embed_response,
                                  runtimes=frozenset({"sentence-embedding"})))
    registry.register(VerbHandler("recommend", parse=_recommend_inputs, respond=_recommend_response,
                                  runtimes=frozenset({"recommender"}), shown_items=shown_item_ids))
