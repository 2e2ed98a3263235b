from __future__ import annotations

import json
from pathlib import Path

import pytest

from limelight.errors import ArtifactInvalid
from limelight.vision import manifest as manifest_io
from limelight.vision.manifest import FORMAT, KEY, ImageClassifierManifest
from limelight.vision.preprocess import Preprocessing
from tests.vision.models import colour_network, export_classifier


def _manifest(**overrides: object) -> dict[str, object]:
    value: dict[str, object] = {"format": FORMAT, "labels": ["ants", "bees"], "multi_label": False,
                                "thresholds": None, "preprocessing": Preprocessing().to_json(),
                                "architecture": "efficientnet-lite0"}
    return value | overrides


def test_round_trip_through_json_and_an_onnx_file(tmp_path: Path) -> None:
    manifest = ImageClassifierManifest(labels=("cat", "dog", "owl"), multi_label=True, thresholds={"owl": 0.3},
                                       preprocessing=Preprocessing(size=32, resize=40), architecture="tiny")
    assert ImageClassifierManifest.from_json(json.dumps(manifest.to_json())) == manifest
    path = export_classifier(colour_network(3, multi_label=True), tmp_path / "m.onnx", manifest)
    assert manifest_io.read(path) == manifest
    assert manifest.cut("owl") == 0.3 and manifest.cut("cat") == 0.5


def test_the_written_json_is_the_shared_format() -> None:
    written = ImageClassifierManifest(labels=("ants", "bees"), architecture="efficientnet-lite0").to_json()
    assert written == _manifest()
    assert KEY == "limelight.image-classifier"


@pytest.mark.parametrize(("change", "field"), [
    ({"format": "limelight.image-classifier/2"}, "manifest.format"),
    ({"labels": []}, "manifest.labels"),
    ({"labels": ["a", "a"]}, "manifest.labels"),
    ({"labels": ["a", 3]}, "manifest.labels[1]"),
    ({"multi_label": "yes"}, "manifest.multi_label"),
    ({"thresholds": {"ants": 0.2}}, "manifest.thresholds"),  # single-label models have no thresholds
    ({"multi_label": True, "thresholds": {"wasps": 0.2}}, "manifest.thresholds.wasps"),
    ({"multi_label": True, "thresholds": {"ants": 1.5}}, "manifest.thresholds.ants"),
    ({"preprocessing": {"size": 300, "resize": 256, "mean": [0, 0, 0], "std": [1, 1, 1]}}, "manifest.preprocessing"),
    ({"preprocessing": {"size": 224}}, "manifest.preprocessing"),
    ({"extra": 1}, "manifest.extra"),
])
def test_a_bad_manifest_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ArtifactInvalid) as caught:
        ImageClassifierManifest.from_json(_manifest(**change))
    assert caught.value.status == 422
    assert caught.value.details["field"] == field


def test_not_json_is_refused() -> None:
    with pytest.raises(ArtifactInvalid):
        ImageClassifierManifest.from_json("{not json")


def test_an_onnx_file_without_the_manifest_is_refused(tmp_path: Path) -> None:
    path = export_classifier(colour_network(3), tmp_path / "bare.onnx", None)
    with pytest.raises(ArtifactInvalid) as caught:
        manifest_io.read(path)
    assert KEY in caught.value.details["field"]
