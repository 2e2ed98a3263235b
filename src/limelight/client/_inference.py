"""Calls of the inference API (``/v1/models/{org}/{name}:verb``), shared by both clients.

Answers are plain dicts: their shape depends on the model's task, and the server may add fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from limelight.client._base import Call, as_json, body, query, segment


def infer(org: str, name: str, verb: str, payload: Mapping[str, Any], version: int | None,
          alias: str | None) -> Call[dict[str, Any]]:
    """``version`` or ``alias`` picks the version; neither means the server's default (``production``)."""
    path = f"/v1/models/{segment(org)}/{segment(name)}:{segment(verb)}"
    return Call("POST", path, as_json, json=dict(payload), params=query(version=version, alias=alias))


def predict_body(inputs: Sequence[Any]) -> dict[str, Any]:
    return {"inputs": list(inputs)}


def recommend_body(user_id: str, k: int, exclude_seen: bool, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    return body(user_id=user_id, k=k, exclude_seen=exclude_seen, filters=dict(filters) if filters else None)


def similar_body(item_id: str, k: int) -> dict[str, Any]:
    return {"item_id": item_id, "k": k}


def classify_body(texts: Sequence[str], top_k: int | None,
                  threshold: float | Mapping[str, float] | None) -> dict[str, Any]:
    cut = dict(threshold) if isinstance(threshold, Mapping) else threshold
    return body(texts=list(texts), top_k=top_k, threshold=cut)


def search_body(query_text: str, k: int, mode: str | None, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    return body(query=query_text, k=k, mode=mode, filters=dict(filters) if filters else None)
