"""The kept model's scores on the validation pictures, stored on the version: accuracy, macro-F1,
per-class precision/recall/F1, the confusion matrix (the console's classifier report reads these
keys) and up to a dozen mistakes as small thumbnails with their true and predicted labels."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from limelight.imaging.decode import ImageLimits, decode_rgb

MAX_MISTAKES = 12
THUMBNAIL_PX = 96
_CUTS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def fit_thresholds(probabilities: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Multi-label: each label's own cut, the one with the best F1 on the validation pictures (the
    one nearest 0.5 among ties, so a label validation cannot tell apart keeps the plain rule)."""
    from sklearn.metrics import f1_score

    truth = (y >= 0.5).astype(int)
    cuts: dict[str, float] = {}
    for column, label in enumerate(classes):
        scores = [f1_score(truth[:, column], (probabilities[:, column] >= cut).astype(int), zero_division=0)
                  for cut in _CUTS]
        best = max(scores)
        cuts[label] = float(min((cut for cut, f in zip(_CUTS, scores, strict=True) if f == best),
                                key=lambda cut: abs(cut - 0.5)))
    return cuts


def evaluate(probabilities: np.ndarray, y: np.ndarray, classes: list[str], multi_label: bool,
             ids: list[str], data: list[bytes], thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """``thresholds`` (multi-label): each label's cut, 0.5 when absent."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    if multi_label:
        cuts = np.array([(thresholds or {}).get(c, 0.5) for c in classes], np.float32)
        predicted = (probabilities >= cuts).astype(int)
        truth = (y >= 0.5).astype(int)
        precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
        accuracy = float(np.mean(np.all(predicted == truth, axis=1)))
        wrong = np.where(~np.all(predicted == truth, axis=1))[0]
        metrics: dict[str, Any] = {"thresholds": {c: float((thresholds or {}).get(c, 0.5)) for c in classes}}
    else:
        predicted = probabilities.argmax(axis=1)
        labels = list(range(len(classes)))
        precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=labels,
                                                                         zero_division=0)
        accuracy = float(np.mean(predicted == y))
        wrong = np.where(predicted != y)[0]
        matrix = confusion_matrix(y, predicted, labels=labels)
        metrics = {"confusion_matrix": {"labels": classes, "matrix": matrix.tolist()}}
    metrics |= {
        "accuracy": round(accuracy, 6),
        "macro_f1": round(float(np.mean(f1)), 6),
        "per_class": {c: {"precision": round(float(p), 6), "recall": round(float(r), 6), "f1": round(float(f), 6),
                          "support": int(s)} for c, p, r, f, s in zip(classes, precision, recall, f1, support,
                                                                      strict=True)},
        "mistakes": [_mistake(i, probabilities, predicted, y, classes, multi_label, ids, data)
                     for i in wrong[:MAX_MISTAKES]],
    }
    if not multi_label:
        metrics["macro_f1"] = round(float(f1_score(y, predicted, average="macro", zero_division=0)), 6)
    return metrics


def _mistake(i: int, probabilities: np.ndarray, predicted: np.ndarray, y: np.ndarray, classes: list[str],
             multi_label: bool, ids: list[str], data: list[bytes]) -> dict[str, Any]:
    if multi_label:
        true = [c for c, t in zip(classes, y[i], strict=True) if t >= 0.5]
        said = [c for c, p in zip(classes, predicted[i], strict=True) if p]
        return {"image_id": ids[i], "true": true, "predicted": said, "thumbnail": _thumbnail(data[i])}
    top = int(probabilities[i].argmax())
    return {"image_id": ids[i], "true": classes[int(y[i])], "predicted": classes[top],
            "score": round(float(probabilities[i][top]), 4), "thumbnail": _thumbnail(data[i])}


def example_picture(pixels: np.ndarray, side: int = 128) -> str:
    """A validation picture (the model's own crop, uint8 HWC) as a small base64 JPEG: the model
    card's example call, short enough to print in a snippet."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), "RGB")
    picture.thumbnail((side, side))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode()


def _thumbnail(data: bytes) -> str:
    picture = decode_rgb(data, ImageLimits())
    picture.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=75)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
