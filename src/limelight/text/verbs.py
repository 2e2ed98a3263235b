"""The text classifier's verb on ``/v1/models/{org}/{name}:classify``.

Body ``{"texts": [..] (1..1024) | "text": "one", "top_k": 1..L, "threshold": 0..1 | {label: 0..1}}`` ->
``{"predictions": [{"label", "score", "labels": [{"label", "score"}], "truncated"}], "model", "version"}``.
``top_k`` defaults to 1 for a single-label model and to every label over its threshold for a
multi-label one; ``threshold`` (multi-label only) replaces the per-label thresholds fitted on
validation, for every label (a number) or for the labels it names (an object; a label the model does
not know is a 422 naming it).
Texts go through the version's batcher like ``:predict``.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import ValidationFailed
from limelight.text.runtime import TextItem
from limelight.verbs import Served, VerbHandler, VerbRegistry

RUNTIMES = frozenset({"text-classifier"})
MAX_TEXTS = 1024
_FIELDS = ("texts", "text", "top_k", "threshold")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def _texts(body: dict[str, Any]) -> list[Any]:
    if ("texts" in body) == ("text" in body):
        raise _invalid("texts", "send either texts (a list) or text (one string)")
    if "text" in body:
        return [body["text"]]
    texts = body["texts"]
    if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_TEXTS:
        raise _invalid("texts", f"texts must be a list of 1..{MAX_TEXTS} strings")
    return texts


def _options(body: dict[str, Any]) -> tuple[int | None, float | dict[str, float] | None]:
    top_k, threshold = body.get("top_k"), body.get("threshold")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise _invalid("top_k", "top_k must be a positive integer")
    if threshold is None:
        return top_k, None
    if isinstance(threshold, dict):
        if not threshold or len(threshold) > MAX_TEXTS:
            raise _invalid("threshold", "threshold must name 1..1024 labels")
        for label, value in threshold.items():
            if not _probability(value):
                raise _invalid(f"threshold.{label}", "each threshold must be a number in 0..1")
        return top_k, {str(label): float(value) for label, value in threshold.items()}
    if not _probability(threshold):
        raise _invalid("threshold", "threshold must be a number in 0..1, or an object of them by label")
    return top_k, float(threshold)


def _probability(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and 0.0 <= value <= 1.0


def _parse(body: dict[str, Any]) -> list[Any]:
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    top_k, threshold = _options(body)
    items = []
    for text in _texts(body):
        if not isinstance(text, str):  # the runtime checks again; here the field can be named precisely
            raise _invalid("texts", "each text must be a string")
        items.append(TextItem(text, top_k, threshold, from_verb=True))
    return items


def _respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    predictions = [{"label": o["label"], "score": o["score"], "labels": o["labels"], "truncated": o["truncated"]}
                   for o in outputs]
    return {"predictions": predictions, "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(verb="classify", runtimes=RUNTIMES, parse=_parse, respond=_respond))
