"""A text classifier's evaluation as the model page shows it: confusion matrix, per-class scores,
calibration. Built from the metrics a ``classify-text`` recipe stores on the version:

* ``confusion_matrix``: ``{"labels": [...], "matrix": [[count, ...], ...]}`` (rows: true label);
* ``per_class``: ``{label: {"precision", "recall", "f1", "support"}}``;
* ``calibration``: ``{"bins": [{"lower", "upper", "confidence", "accuracy", "count"}], "ece"}``;
* ``mistakes`` (image classifiers): ``[{"image_id", "true", "predicted", "score", "thumbnail"}]`` with
  the thumbnail a ``data:image/jpeg`` URI.

Anything missing or malformed is left out rather than failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEAT_LEVELS = 5  # css classes heat-0 … heat-4
MAX_LABELS = 50  # a wider matrix is not readable; the per-class table still lists every label


@dataclass(frozen=True)
class MatrixCell:
    count: int
    heat: int  # 0..HEAT_LEVELS-1, the share of the row's total
    diagonal: bool


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None


@dataclass(frozen=True)
class CalibrationBin:
    lower: float
    upper: float
    confidence: float | None
    accuracy: float | None
    count: int


@dataclass(frozen=True)
class Mistake:
    image_id: str
    true: str
    predicted: str
    score: float | None
    thumbnail: str  # a data:image/jpeg URI


@dataclass(frozen=True)
class ClassifierReport:
    labels: list[str]
    matrix: list[tuple[str, list[MatrixCell]]]
    per_class: list[ClassScore]
    calibration: list[CalibrationBin]
    ece: float | None
    mistakes: list[Mistake]


def classifier_report(metrics: dict[str, Any] | None) -> ClassifierReport | None:
    """The report of a version's metrics, or None when they hold no classifier evaluation."""
    if not isinstance(metrics, dict):
        return None
    labels, matrix = _matrix(metrics.get("confusion_matrix"))
    per_class = _per_class(metrics.get("per_class"))
    bins, ece = _calibration(metrics.get("calibration"))
    if not matrix and not per_class and not bins:
        return None
    return ClassifierReport(labels, matrix, per_class, bins, ece, _mistakes(metrics.get("mistakes")))


def _mistakes(raw: Any) -> list[Mistake]:
    if not isinstance(raw, list):
        return []
    out = []
    for m in raw:
        thumbnail = m.get("thumbnail") if isinstance(m, dict) else None
        if not isinstance(thumbnail, str) or not thumbnail.startswith("data:image/jpeg;base64,"):
            continue  # only our own thumbnails, never a link a version's metrics could smuggle in
        true, said = m.get("true"), m.get("predicted")
        out.append(Mistake(str(m.get("image_id", "")), ", ".join(true) if isinstance(true, list) else str(true),
                           ", ".join(said) if isinstance(said, list) else str(said), _num(m.get("score")), thumbnail))
    return out


def _matrix(raw: Any) -> tuple[list[str], list[tuple[str, list[MatrixCell]]]]:
    if not isinstance(raw, dict):
        return [], []
    labels, rows = raw.get("labels"), raw.get("matrix")
    if not isinstance(labels, list) or not isinstance(rows, list) or len(labels) != len(rows):
        return [], []
    if len(labels) > MAX_LABELS or not all(isinstance(r, list) and len(r) == len(labels) for r in rows):
        return [], []
    out = []
    for i, (label, row) in enumerate(zip(labels, rows, strict=True)):
        counts = [int(c) if _is_number(c) else 0 for c in row]
        total = sum(counts) or 1
        cells = [MatrixCell(c, min(HEAT_LEVELS - 1, int(c / total * HEAT_LEVELS)), i == j) for j, c in enumerate(counts)]
        out.append((str(label), cells))
    return [str(label) for label in labels], out


def _per_class(raw: Any) -> list[ClassScore]:
    if isinstance(raw, dict):
        entries = [(label, scores) for label, scores in raw.items()]
    elif isinstance(raw, list):
        entries = [(item.get("label"), item) for item in raw if isinstance(item, dict)]
    else:
        return []
    return [ClassScore(str(label), _num(s.get("precision")), _num(s.get("recall")), _num(s.get("f1")),
                       _int(s.get("support")))
            for label, s in entries if isinstance(s, dict)]


def _calibration(raw: Any) -> tuple[list[CalibrationBin], float | None]:
    if not isinstance(raw, dict) or not isinstance(raw.get("bins"), list):
        return [], None
    bins = [CalibrationBin(_num(b.get("lower")) or 0.0, _num(b.get("upper")) or 0.0, _num(b.get("confidence")),
                           _num(b.get("accuracy")), _int(b.get("count")) or 0)
            for b in raw["bins"] if isinstance(b, dict)]
    return [b for b in bins if b.count > 0], _num(raw.get("ece"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _num(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _int(value: Any) -> int | None:
    return int(value) if _is_number(value) else None
