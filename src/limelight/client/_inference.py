"""Calls of the inference API (``/v1/models/{org}/{name}:verb``), shared by both clients.

A model is named ``"org/name"``, as in the CLI and the URL. Answers are plain dicts: their shape
depends on the model's task, and the server may add fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from limelight.client._base import Call, as_json, as_none, body, query, segment
from limelight.errors import LimelightError, error_class_for_code

# A generation streams for as long as the model writes; only connecting is bounded.
STREAM_TIMEOUT = httpx.Timeout(60.0, read=None)


def split_model(model: str) -> tuple[str, str]:
    """``"org/name"`` as ``(org, name)``; anything else raises ValueError before a request is sent."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a str 'org/name', not {type(model).__name__}")
    org, _, name = model.partition("/")
    if not org or not name or "/" in name:
        raise ValueError(f"model must be 'org/name' (as in the CLI and /v1/models/{{org}}/{{name}}), got {model!r}")
    return org, name


def model_path(model: str, verb: str) -> str:
    org, name = split_model(model)
    return f"/v1/models/{segment(org)}/{segment(name)}:{segment(verb)}"


def infer(model: str, verb: str, payload: Mapping[str, Any], version: int | None,
          alias: str | None) -> Call[dict[str, Any]]:
    """``version`` or ``alias`` picks the version; neither means the server's default (``production``)."""
    return Call("POST", model_path(model, verb), as_json, json=dict(payload),
                params=query(version=version, alias=alias))


def predict_body(inputs: Sequence[Any]) -> dict[str, Any]:
    return {"inputs": list(inputs)}


def score_body(limit: int, as_of: str | None) -> dict[str, Any]:
    return body(limit=limit, as_of=as_of)


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


def generate_body(variables: Mapping[str, str], max_tokens: int | None, temperature: float | None,
                  seed: int | None) -> dict[str, Any]:
    return body(variables=dict(variables), max_tokens=max_tokens, temperature=temperature, seed=seed)


def generate_whole(model: str, payload: Mapping[str, Any], version: int | None,
                   alias: str | None) -> Call[dict[str, Any]]:
    """The whole answer at once; as long to wait for as the stream (the server bounds a generation)."""
    return Call("POST", model_path(model, "generate"), as_json, json=dict(payload),
                params=query(version=version, alias=alias), timeout=STREAM_TIMEOUT)


def generate_stream(model: str, payload: Mapping[str, Any], version: int | None,
                    alias: str | None) -> Call[None]:
    return Call("POST", model_path(model, "generate"), as_none, json={**payload, "stream": True},
                params=query(version=version, alias=alias), headers={"Accept": "text/event-stream"},
                timeout=STREAM_TIMEOUT)


def stream_event(event: ServerSentEvent) -> dict[str, Any] | None:
    """A generation event (``start``/``delta``/``end``), else None; an error event is raised."""
    if not event.data or event.data == "[DONE]":
        return None
    data: dict[str, Any] = json.loads(event.data)
    if "error" in data:
        error = data["error"]
        cls = error_class_for_code(str(error.get("code")), int(error.get("status", LimelightError.status)))
        raise cls(str(error.get("message") or ""), details=dict(error.get("details") or {}))
    return data
