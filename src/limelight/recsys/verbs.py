"""The recommender's verbs on ``/v1/models/{org}/{name}:{verb}`` (see ``serving.verb_registry.VerbHandler``).

* ``recommend``: ``{"user_id", "k": 1..1000, "exclude_seen", "filters"}`` ->
  ``{"items": [{"item_id", "score", "title", …}], "fallback": "popularity" | null, "model", "version"}``
* ``similar``: ``{"item_id", "k"}`` -> ``{"item": {…}, "items": [...], "model", "version"}``
* ``explain``: ``{"user_id", "item_id"?, "k"?}`` -> ``{"user_id", "explanations": [{"item_id", "title",
  "because": [{"item_id", "title", "contribution"}]}], "model", "version"}`` — without ``item_id`` the
  user's current top-``k`` recommendations are explained.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import ValidationFailed
from limelight.runtimes.recommender import MAX_K
from limelight.verbs import Served, VerbHandler, VerbRegistry, shown_item_ids

RUNTIMES = frozenset({"recommender"})
_RECOMMEND_FIELDS = ("user_id", "k", "exclude_seen", "filters")


def _served(result: dict[str, Any], served: Served) -> dict[str, Any]:
    return {**result, "model": served.model_ref, "version": served.version}


def _recommend_parse(body: dict[str, Any]) -> list[Any]:
    unknown = set(body) - set(_RECOMMEND_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown field {sorted(unknown)[0]!r}", details={"field": sorted(unknown)[0]})
    return [{k: body[k] for k in _RECOMMEND_FIELDS if k in body}]


def _item_id(body: dict[str, Any], required: bool) -> str | None:
    value = body.get("item_id")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValidationFailed("item_id must be a non-empty string (max 256)", details={"field": "item_id"})
    return value


def _k(body: dict[str, Any], default: int) -> int:
    k = body.get("k", default)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationFailed(f"k must be an integer in 1..{MAX_K}", details={"field": "k"})
    return k


def _similar_parse(body: dict[str, Any]) -> list[Any]:
    return [{"item_id": _item_id(body, required=True), "k": _k(body, 10)}]


def _explain_parse(body: dict[str, Any]) -> list[Any]:
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise ValidationFailed("user_id must be a non-empty string", details={"field": "user_id"})
    return [{"user_id": user_id, "item_id": _item_id(body, required=False), "k": min(_k(body, 5), 20)}]


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(
        verb="recommend", runtimes=RUNTIMES, parse=_recommend_parse,
        respond=lambda outputs, body, served: _served(outputs[0], served), shown_items=shown_item_ids,
    ))
    registry.register(VerbHandler(
        verb="similar", runtimes=RUNTIMES, parse=_similar_parse,
        call=lambda runtime, items: [runtime.similar(**i) for i in items],  # type: ignore[attr-defined]
        respond=lambda outputs, body, served: _served(outputs[0], served), shown_items=shown_item_ids,
    ))
    registry.register(VerbHandler(
        verb="explain", runtimes=RUNTIMES, parse=_explain_parse,
        call=lambda runtime, items: [runtime.explain(**i) for i in items],  # type: ignore[attr-defined]
        respond=lambda outputs, body, served: _served(outputs[0], served),
    ))
