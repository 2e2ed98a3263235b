"""The model page's classifier report shows an image classifier's mistakes as thumbnails, and only
the JPEG data: URIs the recipe made."""

from __future__ import annotations

from limelight.ui.classifier_report import classifier_report
from limelight.ui.rendering import build_ui

JPEG = "data:image/jpeg;base64,/9j/4AAQ"


def _metrics(mistakes: list[object]) -> dict[str, object]:
    return {"confusion_matrix": {"labels": ["ants", "bees"], "matrix": [[9, 1], [2, 8]]},
            "per_class": {"ants": {"precision": 0.8, "recall": 0.9, "f1": 0.85, "support": 10}},
            "mistakes": mistakes}


def test_mistakes_are_read_and_rendered_under_the_confusion_matrix() -> None:
    report = classifier_report(_metrics([
        {"image_id": "val/ants/1.jpg", "true": "ants", "predicted": "bees", "score": 0.71, "thumbnail": JPEG},
        {"image_id": "x.png", "true": ["ants"], "predicted": [], "thumbnail": JPEG},
        {"image_id": "evil.svg", "true": "ants", "predicted": "bees", "thumbnail": "javascript:alert(1)"},
        "not a mistake",
    ]))
    assert report is not None
    assert [(m.image_id, m.true, m.predicted, m.score) for m in report.mistakes] == [
        ("val/ants/1.jpg", "ants", "bees", 0.71), ("x.png", "ants", "(none)", None)]
    html = build_ui().templates.get_template("_classifier_report.html").render(report=report, report_version=3)
    assert 'id="mistakes"' in html and html.count(f'src="{JPEG}"') == 2
    assert "javascript:" not in html and "val/ants/1.jpg: ants, predicted bees" in html


def test_a_report_without_mistakes_has_no_grid() -> None:
    report = classifier_report(_metrics([]))
    assert report is not None and report.mistakes == []
    html = build_ui().templates.get_template("_classifier_report.html").render(report=report, report_version=1)
    assert 'id="confusion-matrix"' in html and 'id="mistakes"' not in html
