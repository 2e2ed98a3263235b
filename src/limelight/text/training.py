"""The pipeline the ``classify-text/*`` recipes share: load, split, fit a scorer on the training rows,
calibrate and evaluate on the validation rows, save one artifact.

A *fitter* takes the split and returns a :class:`Fitted` (artifact members + raw validation logits);
calibration and metrics are computed here the same way for every kind, so candidates compare fairly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from limelight.recipes.base import JobContext
from limelight.text.calibration import calibrate_multi, fit_temperature
from limelight.text.data import Targets, build_targets, read_labeled_texts, stratified_split
from limelight.text.evaluation import evaluate_multi, evaluate_single
from limelight.text.model import Calibration


@dataclass
class Split:
    train_texts: list[str]
    train_y: np.ndarray
    valid_texts: list[str]
    valid_y: np.ndarray
    targets: Targets

    @property
    def labels(self) -> list[str]:
        return self.targets.classes

    @property
    def multi_label(self) -> bool:
        return self.targets.multi_label


@dataclass
class Fitted:
    kind: str
    members: dict[str, np.ndarray]
    valid_logits: np.ndarray
    max_length: int
    info: dict[str, Any] = field(default_factory=dict)  # e.g. the head type, training history
    metadata: dict[str, Any] = field(default_factory=dict)  # what loading needs beyond the arrays (pooling)


@dataclass
class Evaluated:
    fitted: Fitted
    calibration: Calibration
    metrics: dict[str, Any]
    seconds: float


Fitter = Callable[[Split], Fitted]


def prepare(ctx: JobContext, multi_label: bool, validation_fraction: float, seed: int) -> Split:
    data = read_labeled_texts(ctx.dataset_path())
    if data.dropped_blank:
        ctx.log(f"dropped {data.dropped_blank} rows with an empty text or label", level="warning")
    targets = build_targets(data.labels, multi_label)
    train, valid = stratified_split(targets, validation_fraction, seed)
    texts = data.texts
    ctx.log(f"{len(texts)} texts, {len(targets.classes)} labels ({'multi' if multi_label else 'single'}-label); "
            f"{len(train)} train / {len(valid)} validation")
    return Split([texts[i] for i in train], targets.y[train], [texts[i] for i in valid], targets.y[valid], targets)


def calibrate_and_evaluate(split: Split, fitted: Fitted, seconds: float) -> Evaluated:
    logits = np.asarray(fitted.valid_logits, np.float64)
    if split.multi_label:
        a, b, thresholds = calibrate_multi(logits, split.valid_y)
        calibration = Calibration(platt_a=a, platt_b=b, thresholds=thresholds)
        proba = calibration.apply(logits, True)
        metrics = evaluate_multi(split.valid_y, proba, thresholds, split.labels)
    else:
        calibration = Calibration(temperature=fit_temperature(logits, split.valid_y))
        metrics = evaluate_single(split.valid_y, calibration.apply(logits, False), split.labels)
    metrics["train_seconds"] = round(seconds, 3)
    return Evaluated(fitted, calibration, metrics, seconds)


def run_fitter(ctx: JobContext, split: Split, fitter: Fitter, step: int) -> Evaluated:
    ctx.check_cancelled()
    started = time.perf_counter()
    fitted = fitter(split)
    result = calibrate_and_evaluate(split, fitted, time.perf_counter() - started)
    # after a fit that reported its own steps (fine-tuning), the summary point comes last on that axis
    ctx.metric({"macro_f1": result.metrics["macro_f1"], "accuracy": result.metrics["accuracy"],
                "ece": result.metrics["calibration"]["ece"]}, step=max(step, int(fitted.info.get("steps", 0)) + 1))
    ctx.log(f"{fitted.kind}: macro_f1={result.metrics['macro_f1']:.4f} accuracy={result.metrics['accuracy']:.4f} "
            f"({result.seconds:.1f}s)")
    return result


def summary_row(result: Evaluated) -> dict[str, Any]:
    m = result.metrics
    return {"kind": result.fitted.kind, "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
            "ece": m["calibration"]["ece"], "train_seconds": m["train_seconds"], **result.fitted.info}


def save(ctx: JobContext, split: Split, result: Evaluated, recipe: str) -> None:
    from limelight.text.artifact import save_arrays

    fitted = result.fitted
    metadata = {"kind": fitted.kind, "labels": split.labels, "multi_label": split.multi_label,
                "calibration": result.calibration.to_json(), "max_length": fitted.max_length, "recipe": recipe,
                "metrics": {k: result.metrics[k] for k in ("accuracy", "macro_f1")}
                | {"ece": result.metrics["calibration"]["ece"]}}
    metadata |= fitted.metadata
    if result.calibration.thresholds is not None:
        metadata["thresholds"] = result.calibration.thresholds.tolist()
    ctx.progress(95, "saving the artifact")
    save_arrays(ctx.output_path(".npz"), metadata, fitted.members)
