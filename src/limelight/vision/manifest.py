"""What an ``image-classifier`` artifact says about itself: labels, decision rule and preprocessing.

The artifact is one ONNX file (input ``pixels`` ``[N, 3, size, size]`` float32, output
``probabilities`` ``[N, L]``) carrying this manifest as JSON under the model's metadata key
``limelight.image-classifier``, so the weights and the way to feed them never travel apart.
Everything here is read from uploaded files: ``from_json`` checks every field and refuses with
``422 artifact_invalid`` naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limelight.errors import ArtifactInvalid, InvalidParams
from limelight.vision.preprocess import Preprocessing

__all__ = ["FORMAT", "KEY", "ImageClassifierManifest", "attach", "read"]

KEY = "limelight.image-classifier"
FORMAT = "limelight.image-classifier/1"
MAX_LABELS = 10_000
MAX_LABEL_CHARS = 200
_FIELDS = frozenset({"format", "labels", "multi_label", "thresholds", "preprocessing", "architecture"})


def _invalid(field_name: str, message: str) -> ArtifactInvalid:
    return ArtifactInvalid(f"image-classifier manifest: {message}", details={"field": f"manifest.{field_name}"})


@dataclass(frozen=True)
class ImageClassifierManifest:
    labels: tuple[str, ...]
    multi_label: bool = False
    thresholds: dict[str, float] | None = None  # multi-label only: a label's own cut (default 0.5)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    architecture: str = "unknown"

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "labels": list(self.labels), "multi_label": self.multi_label,
                "thresholds": dict(self.thresholds) if self.thresholds is not None else None,
                "preprocessing": self.preprocessing.to_json(), "architecture": self.architecture}

    @classmethod
    def from_json(cls, value: Any) -> ImageClassifierManifest:
        """The manifest in ``value`` (a dict or its JSON text), every field checked."""
        if isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise _invalid("json", "not valid JSON") from exc
        if not isinstance(value, dict):
            raise _invalid("json", "must be a JSON object")
        unknown = sorted(set(value) - _FIELDS)
        if unknown:
            raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
        if value.get("format") != FORMAT:
            raise _invalid("format", f"format must be {FORMAT!r}")
        labels = _labels(value.get("labels"))
        multi_label = value.get("multi_label", False)
        if not isinstance(multi_label, bool):
            raise _invalid("multi_label", "multi_label must be true or false")
        return cls(labels=labels, multi_label=multi_label,
                   thresholds=_thresholds(value.get("thresholds"), labels, multi_label),
                   preprocessing=_preprocessing(value.get("preprocessing")),
                   architecture=_architecture(value.get("architecture", "unknown")))

    def cut(self, label: str) -> float:
        """The probability at which a multi-label model says ``label``."""
        return (self.thresholds or {}).get(label, 0.5)


def _labels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LABELS:
        raise _invalid("labels", f"labels must be a list of 1..{MAX_LABELS} names")
    for i, label in enumerate(value):
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
            raise _invalid(f"labels[{i}]", f"each label must be a non-empty string of at most {MAX_LABEL_CHARS} chars")
    if len(set(value)) != len(value):
        raise _invalid("labels", "labels must be unique")
    return tuple(value)


def _thresholds(value: Any, labels: tuple[str, ...], multi_label: bool) -> dict[str, float] | None:
    if value is None:
        return None
    if not multi_label:
        raise _invalid("thresholds", "thresholds apply to multi-label models only")
    if not isinstance(value, dict):
        raise _invalid("thresholds", "thresholds must be an object of label: probability")
    known = set(labels)
    for label, cut in value.items():
        if label not in known:
            raise _invalid(f"thresholds.{label}", f"threshold for unknown label {label!r}")
        if isinstance(cut, bool) or not isinstance(cut, int | float) or not (math.isfinite(cut) and 0 <= cut <= 1):
            raise _invalid(f"thresholds.{label}", "each threshold must be a number in 0..1")
    return {str(label): float(cut) for label, cut in value.items()}


def _preprocessing(value: Any) -> Preprocessing:
    if not isinstance(value, dict):
        raise _invalid("preprocessing", "preprocessing must be an object")
    try:
        return Preprocessing.from_json(value)
    except InvalidParams as exc:
        raise _invalid("preprocessing", exc.message) from exc


def _architecture(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 100:
        raise _invalid("architecture", "architecture must be a string of 1..100 chars")
    return value


def attach(model_proto: Any, manifest: ImageClassifierManifest) -> Any:
    """Store ``manifest`` in an ``onnx.ModelProto``'s metadata (replacing any earlier one)."""
    kept = [p for p in model_proto.metadata_props if p.key != KEY]
    del model_proto.metadata_props[:]
    model_proto.metadata_props.extend(kept)
    entry = model_proto.metadata_props.add()
    entry.key, entry.value = KEY, json.dumps(manifest.to_json(), separators=(",", ":"))
    return model_proto


def read(source: Any) -> ImageClassifierManifest:
    """The manifest of an ONNX file (a path), an ``onnx.ModelProto`` or an onnxruntime session."""
    if isinstance(source, str | Path):
        import onnx

        source = onnx.load_model(str(source), load_external_data=False)
    if hasattr(source, "get_modelmeta"):  # an onnxruntime.InferenceSession
        raw = source.get_modelmeta().custom_metadata_map.get(KEY)
    else:
        raw = next((p.value for p in source.metadata_props if p.key == KEY), None)
    if raw is None:
        raise ArtifactInvalid(f"the ONNX model has no {KEY!r} metadata; it is not an image-classifier artifact",
                              details={"field": f"metadata_props.{KEY}"})
    return ImageClassifierManifest.from_json(raw)
