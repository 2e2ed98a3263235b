"""A search request, checked field by field: ``{"query", "k", "filters", "mode"}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limelight.errors import ValidationFailed
from limelight.search.engine import MODES
from limelight.search.text import MAX_QUERY_CHARS

FIELDS = ("query", "k", "filters", "mode")
MAX_K = 100
MAX_ID_FILTER = 10_000


def parse_request(body: Any) -> dict[str, Any]:
    """The request in the engine's form, or ``ValidationFailed`` naming the bad field."""
    if isinstance(body, str):
        body = {"query": body}
    if not isinstance(body, Mapping):
        raise ValidationFailed("a search request is an object with a 'query'", details={"field": "query"})
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", details={"field": unknown[0], "allowed": list(FIELDS)})
    return {"query": _query(body.get("query")), "k": _k(body.get("k", 10)), "filters": _filters(body.get("filters")),
            "mode": _mode(body.get("mode", "hybrid"))}


def _query(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("query must be a non-empty string", details={"field": "query"})
    if len(value) > MAX_QUERY_CHARS:
        raise ValidationFailed(f"query is longer than {MAX_QUERY_CHARS} characters", details={"field": "query"})
    return value.strip()


def _k(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise ValidationFailed(f"k must be an integer in 1..{MAX_K}", details={"field": "k"})
    return value


def _mode(value: Any) -> str:
    if value not in MODES:
        raise ValidationFailed(f"mode must be one of {list(MODES)}", details={"field": "mode", "allowed": list(MODES)})
    return str(value)


def _filters(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed("filters must be an object", details={"field": "filters"})
    for key in ("item_ids", "exclude_item_ids"):
        ids = value.get(key)
        if key in value and (not isinstance(ids, list) or len(ids) > MAX_ID_FILTER
                             or not all(isinstance(i, str) for i in ids)):
            raise ValidationFailed(f"filters.{key} must be a list of item ids", details={"field": f"filters.{key}"})
    return value
