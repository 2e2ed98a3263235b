"""The job's ``labeled_text`` rows as texts and label targets, and the stratified validation split.

Single-label: each label is one class (``pos``, ``4``); classes that all look like integers are
ordered numerically (1-5 stars), others alphabetically. Multi-label: a label holds tags separated by
``|`` or ``,`` and the target is a multi-hot matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from limelight.errors import InvalidParams

_TAG_SEPARATORS = re.compile(r"[|,]")


@dataclass
class LabeledTexts:
    texts: list[str]
    labels: list[str]  # the raw label column, one per text
    dropped_blank: int = 0


@dataclass
class Targets:
    classes: list[str]
    multi_label: bool
    y: np.ndarray  # int64 class ids (n,) or multi-hot float32 (n, n_classes)

    def stratify_key(self) -> np.ndarray:
        """Single-label: the class; multi-label: the example's first tag (or -1 for none)."""
        if not self.multi_label:
            return self.y
        return np.where(self.y.any(axis=1), self.y.argmax(axis=1), -1)


def read_labeled_texts(path: Path) -> LabeledTexts:
    """The ``text`` and ``label`` columns; blank texts and missing labels are dropped and counted."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["text", "label"])
    texts, labels, dropped = [], [], 0
    for text, label in zip(table.column("text").to_pylist(), table.column("label").to_pylist(), strict=True):
        if not isinstance(text, str) or not text.strip() or label is None or not str(label).strip():
            dropped += 1
            continue
        texts.append(text)
        labels.append(str(label).strip())
    if not texts:
        raise InvalidParams("The dataset has no rows with a non-empty text and a label.",
                            details={"field": "dataset", "reason": "no_texts", "dropped": dropped})
    return LabeledTexts(texts, labels, dropped)


def split_tags(label: str) -> list[str]:
    return sorted({tag.strip() for tag in _TAG_SEPARATORS.split(label) if tag.strip()})


def _ordered(classes: set[str]) -> list[str]:
    if all(re.fullmatch(r"-?\d+", c) for c in classes):
        return sorted(classes, key=int)
    return sorted(classes)


def build_targets(labels: list[str], multi_label: bool) -> Targets:
    """Class ids or a multi-hot matrix; fewer than two classes is an ``InvalidParams``."""
    if multi_label:
        tags = [split_tags(label) for label in labels]
        classes = _ordered({t for row in tags for t in row})
    else:
        classes = _ordered(set(labels))
    if len(classes) < 2:
        raise InvalidParams(
            f"The label column has a single class ({classes[0]!r} if any); a classifier needs at least two.",
            details={"field": "label", "reason": "single_class", "classes": classes})
    index = {c: i for i, c in enumerate(classes)}
    if not multi_label:
        return Targets(classes, False, np.array([index[label] for label in labels], dtype=np.int64))
    y = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for row, row_tags in enumerate(tags):
        y[row, [index[t] for t in row_tags]] = 1.0
    return Targets(classes, True, y)


def stratified_split(targets: Targets, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices; every stratum with 2+ rows gives the validation at least one."""
    rng = np.random.default_rng(seed)
    key = targets.stratify_key()
    train, valid = [], []
    for value in np.unique(key):
        rows = rng.permutation(np.flatnonzero(key == value))
        n_valid = int(round(len(rows) * fraction))
        n_valid = min(max(n_valid, 1 if len(rows) >= 2 else 0), len(rows) - 1) if len(rows) > 1 else 0
        valid.append(rows[:n_valid])
        train.append(rows[n_valid:])
    train_rows, valid_rows = np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))
    if len(valid_rows) == 0:
        raise InvalidParams("Too few rows for a validation split.",
                            details={"field": "params.validation_fraction", "rows": int(len(key))})
    return train_rows, valid_rows
