"""The model page's evaluation shows an image classifier's mistakes, from its own thumbnails only."""

from __future__ import annotations

from limelight.ui.classifier_report import classifier_report

THUMB = "data:image/jpeg;base64,/9j/AA=="


def test_mistakes_are_shown_with_true_and_predicted_labels_and_foreign_images_are_dropped() -> None:
    report = classifier_report({
        "confusion_matrix": {"labels": ["ants", "bees"], "matrix": [[9, 1], [0, 10]]},
        "mistakes": [{"image_id": "val/ants/3.jpg", "true": "ants", "predicted": "bees", "score": 0.71,
                      "thumbnail": THUMB},
                     {"image_id": "x", "true": "a", "predicted": "b", "thumbnail": "https://evil.example/t.jpg"},
                     {"image_id": "y", "true": ["poster", "drama"], "predicted": ["poster"], "thumbnail": THUMB}],
    })
    assert report is not None
    assert [(m.image_id, m.true, m.predicted, m.score) for m in report.mistakes] == [
        ("val/ants/3.jpg", "ants", "bees", 0.71), ("y", "poster, drama", "poster", None)]
