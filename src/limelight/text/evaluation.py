"""Validation metrics of a text classifier, all plain JSON.

``accuracy`` (multi-label: exact match of the tag set), ``macro_f1``, ``per_class`` precision /
recall / F1 / support, ``confusion_matrix`` ``{labels, matrix}`` (multi-label: one ``[[tn, fp],
[fn, tp]]`` per label) and ``calibration``: reliability bins of confidence vs accuracy and the
expected calibration error (single-label: the top class's probability against being right;
multi-label: every per-label probability against the tag being present).
"""

from __future__ import annotations

from typing import Any

import numpy as np

N_BINS = 10


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp, dtype=float), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp, dtype=float), where=(tp + fn) > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    return precision, recall, f1


def _per_class(classes: list[str], tp: np.ndarray, fp: np.ndarray, fn: np.ndarray,
               support: np.ndarray) -> tuple[dict[str, Any], float]:
    precision, recall, f1 = _prf(tp.astype(float), fp.astype(float), fn.astype(float))
    table = {c: {"precision": round(float(p), 6), "recall": round(float(r), 6), "f1": round(float(f), 6),
                 "support": int(s)} for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)}
    return table, float(f1.mean())


def reliability(confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> dict[str, Any]:
    """Equal-width bins over [0, 1]: count, mean confidence, accuracy; ECE = weighted |gap|."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece, total = [], 0.0, max(len(confidence), 1)
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        conf = float(confidence[mask].mean()) if count else None
        acc = float(correct[mask].mean()) if count else None
        if count:
            ece += count / total * abs(conf - acc)  # type: ignore[operator]
        bins.append({"lower": round(float(edges[b]), 4), "upper": round(float(edges[b + 1]), 4), "count": count,
                     "confidence": None if conf is None else round(conf, 6),
                     "accuracy": None if acc is None else round(acc, 6)})
    return {"bins": bins, "ece": round(float(ece), 6)}


def evaluate_single(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, Any]:
    predicted = proba.argmax(axis=1)
    n = len(classes)
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (y, predicted), 1)
    tp = np.diag(matrix)
    per_class, macro_f1 = _per_class(classes, tp, matrix.sum(axis=0) - tp, matrix.sum(axis=1) - tp,
                                     matrix.sum(axis=1))
    return {"accuracy": round(float((predicted == y).mean()), 6), "macro_f1": round(macro_f1, 6),
            "per_class": per_class, "confusion_matrix": {"labels": classes, "matrix": matrix.tolist()},
            "calibration": reliability(proba.max(axis=1), (predicted == y).astype(float)),
            "validation_rows": int(len(y))}


def evaluate_multi(y: np.ndarray, proba: np.ndarray, thresholds: np.ndarray, classes: list[str]) -> dict[str, Any]:
    truth = y > 0.5
    predicted = proba >= thresholds[None, :]
    tp = (predicted & truth).sum(axis=0)
    fp = (predicted & ~truth).sum(axis=0)
    fn = (~predicted & truth).sum(axis=0)
    tn = (~predicted & ~truth).sum(axis=0)
    per_class, macro_f1 = _per_class(classes, tp, fp, fn, truth.sum(axis=0))
    matrix = [[[int(tn[j]), int(fp[j])], [int(fn[j]), int(tp[j])]] for j in range(len(classes))]
    return {"accuracy": round(float((predicted == truth).all(axis=1).mean()), 6), "macro_f1": round(macro_f1, 6),
            "per_class": per_class, "confusion_matrix": {"labels": classes, "matrix": matrix},
            "calibration": reliability(proba.ravel(), truth.ravel().astype(float)),
            "validation_rows": int(len(y))}
