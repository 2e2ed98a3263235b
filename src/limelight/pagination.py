"""Opaque cursors for keyset pagination: ``?limit=&cursor=``."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import orjson
from fastapi import Query

from limelight.errors import BadRequest
from limelight.schemas.common import Page

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, Query(max_length=500, description=(
    "next_cursor of the previous page, as it was given: it is opaque, and any other value answers 400"))]


def encode_cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values), default=str)).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[object] | None:
    if not cursor:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise BadRequest("Malformed cursor.", details={"cursor": cursor[:50]}) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadRequest("Malformed cursor.", details={"cursor": cursor[:50]})
    return values


def page_of(items: Sequence[T], limit: int, key: Callable[[T], tuple[object, ...]]) -> Page[T]:
    """A page of ``items``; a full page carries the cursor of its last item's ``key``, a short one none."""
    full = bool(items) and len(items) == limit
    return Page(items=list(items), next_cursor=encode_cursor(*key(items[-1])) if full else None)
