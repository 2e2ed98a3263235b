"""The console's views of text models without a browser: the training curve and the classifier report."""

from __future__ import annotations

import json
from types import SimpleNamespace

from limelight.ui.classifier_report import classifier_report
from limelight.ui.training_curve import training_curve


def _log(level: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(level=level, message=message)


def test_curve_splits_losses_from_validation_metrics_and_skips_other_lines():
    logs = [
        _log("info", "starting"),
        _log("metric", json.dumps({"step": 10, "epoch": 0, "loss": 0.9})),
        _log("metric", json.dumps({"step": 20, "epoch": 0, "loss": 0.5, "valid_accuracy": 0.7})),
        _log("metric", "{not json"),
        _log("metric", json.dumps({"epoch": 1, "loss": 0.1})),  # no step: not a point
        _log("metric", json.dumps({"step": 30, "loss": float("nan")})),  # NaN is not drawn
        _log("metric", json.dumps({"step": 40, "loss": 0.3, "valid_accuracy": 0.8})),
    ]
    curve = training_curve(logs)
    assert curve.points == 3
    loss, valid = curve.charts
    assert loss.title == "Loss" and [line.name for line in loss.lines] == ["loss"]
    assert len(loss.lines[0].segments[0].split()) == 3
    assert valid.title == "Validation" and [line.name for line in valid.lines] == ["valid_accuracy"]
    assert len(valid.lines[0].segments[0].split()) == 2
    assert loss.x_ticks[0].text == "step 10" and loss.x_ticks[-1].text == "step 40"


def test_curve_of_a_job_without_points_is_empty():
    curve = training_curve([_log("info", "hello")])
    assert curve.empty and curve.charts == []


def test_classifier_report_shades_rows_and_marks_the_diagonal():
    metrics = {
        "accuracy": 0.75,
        "confusion_matrix": {"labels": ["neg", "pos"], "matrix": [[8, 2], [3, 7]]},
        "per_class": {"neg": {"precision": 0.727, "recall": 0.8, "f1": 0.762, "support": 10},
                      "pos": {"precision": 0.778, "recall": 0.7, "f1": 0.737, "support": 10}},
        "calibration": {"ece": 0.05, "bins": [
            {"lower": 0.5, "upper": 0.6, "confidence": 0.55, "accuracy": 0.5, "count": 4},
            {"lower": 0.6, "upper": 0.7, "confidence": None, "accuracy": None, "count": 0},
            {"lower": 0.9, "upper": 1.0, "confidence": 0.95, "accuracy": 0.9, "count": 16}]},
    }
    report = classifier_report(metrics)
    assert report is not None and report.labels == ["neg", "pos"]
    (first, cells), _ = report.matrix
    assert first == "neg" and [c.count for c in cells] == [8, 2]
    assert cells[0].diagonal and not cells[1].diagonal and cells[0].heat == 4 and cells[1].heat == 1
    assert [c.label for c in report.per_class] == ["neg", "pos"] and report.per_class[0].support == 10
    assert [b.count for b in report.calibration] == [4, 16] and report.ece == 0.05


def test_classifier_report_ignores_what_is_not_a_classifier_evaluation():
    assert classifier_report({"ndcg_at_10": 0.3}) is None
    assert classifier_report(None) is None
    ragged = {"confusion_matrix": {"labels": ["a", "b"], "matrix": [[1, 2], [3]]}}
    assert classifier_report(ragged) is None
