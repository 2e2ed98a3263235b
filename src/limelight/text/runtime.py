"""The ``text-classifier`` runtime: a ``limelight.text/1`` ``.npz`` artifact, texts in, labels out.

``:predict`` / KServe v2 send plain strings; the ``:classify`` verb sends :class:`TextItem` (a text
with its ``top_k`` / ``threshold``). Each output is ``{"label", "score", "probabilities", "labels",
"truncated"}``; a text longer than the model's limit is cut and flagged ``truncated``, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from limelight.errors import ValidationFailed
from limelight.runtimes.base import LoadContext, int_param, io_spec, refuse_pickle
from limelight.text.model import TextClassifier


@dataclass(frozen=True)
class TextItem:
    """One text to classify and its per-request options (made by the ``:classify`` verb only)."""

    text: str
    top_k: int | None = None
    threshold: float | dict[str, float] | None = None  # one cut for every label, or some labels' own
    from_verb: bool = False  # the verb answers the top label only, unless top_k says otherwise


class TextClassifierRuntime:
    max_batch_size = 64

    def __init__(self, model: TextClassifier) -> None:
        self.model = model
        self.memory_bytes = model.memory_bytes

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> TextClassifierRuntime:
        refuse_pickle(artifact_path)
        from limelight.text.artifact import load_classifier

        threads = int_param(params, "threads", 2, 1, 64)
        return cls(load_classifier(artifact_path, cache_dir=context.cache_dir, threads=threads))

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    def signature(self) -> dict[str, Any]:
        return {
            "inputs": [io_spec("text", "string", [-1])],
            "outputs": [io_spec("label", "string", [-1]), io_spec("probabilities", "float32", [-1, len(self.labels)])],
            "labels": self.labels,
            "multi_label": self.model.multi_label,
            "kind": self.model.kind,
        }

    def validate_input(self, item: Any) -> TextItem:
        if isinstance(item, TextItem):
            _check_text(item.text)
            return self._checked_options(item)
        return TextItem(_check_text(item))

    def _checked_options(self, item: TextItem) -> TextItem:
        if item.top_k is not None and not 1 <= item.top_k <= len(self.labels):
            raise ValidationFailed(f"top_k must be an integer in 1..{len(self.labels)}", details={"field": "top_k"})
        if item.threshold is not None and not self.model.multi_label:
            raise ValidationFailed("threshold applies to multi-label models only", details={"field": "threshold"})
        if isinstance(item.threshold, dict):
            unknown = sorted(set(item.threshold) - set(self.labels))
            if unknown:
                raise ValidationFailed(f"the model has no label {unknown[0]!r}",
                                       details={"field": f"threshold.{unknown[0]}", "reason": "unknown_label",
                                                "labels": self.labels[:100]})
        if item.from_verb and item.top_k is None and not self.model.multi_label:
            return replace(item, top_k=1)
        return item

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        items = [i if isinstance(i, TextItem) else TextItem(i) for i in inputs]
        return self.model.predict([i.text for i in items], top_k=[i.top_k for i in items],
                                  threshold=[i.threshold for i in items])

    def close(self) -> None:
        self.model.close()


def _check_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ValidationFailed("each text must be a string", details={"field": "texts", "expected": "string"})
    if not text.strip():
        raise ValidationFailed("a text must not be empty or only whitespace",
                               details={"field": "texts", "reason": "empty_text"})
    return text
