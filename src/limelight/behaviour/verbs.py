"""The behaviour runtime's verbs on ``/v1/models/{org}/{name}:{verb}``.

* ``predict``: ``{"user_id": "u1", "as_of"?}`` -> ``{"user_id", "probability", "reasons": [{"feature",
  "value", "contribution", "text"}], "no_history", "as_of", "model", "version"}``; the batch form
  ``{"user_ids": [...]}`` -> ``{"predictions": [...], "model", "version"}``; the generic
  ``{"inputs": [{"user_id": ...}]}`` -> ``{"outputs": [...]}``.
* ``score``: ``{"as_of"?, "limit"?}`` -> ``{"users": [{"rank", "user_id", "probability", "top_reason",
  "reasons"}], "total", "as_of", "model", "version"}``: every known user, most at risk first.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import ValidationFailed
from limelight.verbs import Served, VerbHandler, VerbRegistry

RUNTIMES = frozenset({"behaviour"})
MAX_USERS = 1024
MAX_SCORED = 100_000


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def _parse_predict(body: dict[str, Any]) -> list[Any]:
    forms = [key for key in ("user_id", "user_ids", "inputs") if key in body]
    if len(forms) != 1:
        raise _invalid("user_id", "send one of user_id (a string), user_ids (a list) or inputs")
    unknown = sorted(set(body) - {forms[0], "as_of"})
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    as_of = {"as_of": body["as_of"]} if body.get("as_of") is not None else {}
    if forms[0] == "user_id":
        return [{"user_id": body["user_id"], **as_of}]
    items = body[forms[0]]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_USERS:
        raise _invalid(forms[0], f"{forms[0]} must be a list of 1..{MAX_USERS} entries")
    if forms[0] == "user_ids":
        return [{"user_id": user_id, **as_of} for user_id in items]
    return items


def _respond_predict(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    model = {"model": served.model_ref, "version": served.version}
    if "user_id" in body:
        return {**outputs[0], **model}
    if "user_ids" in body:
        return {"predictions": outputs, **model}
    return {"outputs": outputs, **model}


def _parse_score(body: dict[str, Any]) -> list[Any]:
    unknown = sorted(set(body) - {"as_of", "limit"})
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    limit = body.get("limit", 1000)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SCORED:
        raise _invalid("limit", f"limit must be an integer in 1..{MAX_SCORED}")
    from limelight.behaviour.snapshots import parse_moment

    as_of = body.get("as_of")
    return [{"as_of": None if as_of is None else parse_moment(as_of, "as_of"), "limit": limit}]


def _call_score(runtime: Any, items: list[Any]) -> list[Any]:
    from limelight.behaviour.scoring import ranked

    item = items[0]
    as_of = runtime.default_as_of() if item["as_of"] is None else item["as_of"]
    rows = ranked(runtime, as_of)
    return [{"users": rows[: item["limit"]], "total": len(rows), "as_of": as_of}]


def _respond_score(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    return {**outputs[0], "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(verb="predict", runtimes=RUNTIMES, parse=_parse_predict, respond=_respond_predict))
    registry.register(VerbHandler(verb="score", runtimes=RUNTIMES, parse=_parse_score, call=_call_score,
                                  respond=_respond_score))
