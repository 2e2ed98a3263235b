from __future__ import annotations

import base64
from pathlib import Path

import onnx
import pytest

from limelight.errors import ArtifactInvalid, ImageInvalid, ImageTooLarge
from limelight.runtimes.base import LoadContext, load_runtime
from limelight.vision.manifest import ImageClassifierManifest, attach
from limelight.vision.preprocess import Preprocessing
from limelight.vision.runtime import ImageClassifierRuntime, ImageItem
from tests.vision.models import colour_classifier, colour_network, export_classifier, picture


def test_predicts_the_colour_of_pictures_in_one_batch(runtime: ImageClassifierRuntime) -> None:
    items = [runtime.validate_input(x) for x in (picture("red"), picture("green", "JPEG"), picture("blue", "WEBP"))]
    outputs = runtime.predict_batch(items)
    assert [o["label"] for o in outputs] == ["red", "green", "blue"]
    assert outputs[0]["score"] > 0.9
    assert [entry["label"] for entry in outputs[0]["labels"]][0] == "red"
    assert len(outputs[0]["labels"]) == 3
    assert sum(entry["score"] for entry in outputs[0]["labels"]) == pytest.approx(1.0, abs=1e-4)


def test_base64_and_data_uris_are_accepted_and_top_k_cuts(runtime: ImageClassifierRuntime) -> None:
    encoded = base64.b64encode(picture("green")).decode()
    plain, uri = runtime.validate_input(encoded), runtime.validate_input(f"data:image/png;base64,{encoded}")
    item = runtime.validate_input(ImageItem(plain.data, top_k=1))
    outputs = runtime.predict_batch([plain, uri, item])
    assert [o["label"] for o in outputs] == ["green"] * 3
    assert len(outputs[2]["labels"]) == 1


def test_a_bad_image_fails_alone_in_its_batch(runtime: ImageClassifierRuntime) -> None:
    outputs = runtime.predict_batch([runtime.validate_input(picture("red")), ImageItem(b"not an image at all")])
    assert outputs[0]["label"] == "red"
    assert isinstance(outputs[1], ImageInvalid) and outputs[1].details["reason"] == "not_an_image"


def test_image_limits_are_checked_before_decoding(colour_model: Path) -> None:
    small = load_runtime("image-classifier", colour_model, {"max_image_bytes": 1024}, LoadContext())
    try:
        with pytest.raises(ImageTooLarge) as caught:
            small.validate_input(b"\x89PNG\r\n\x1a\n" + bytes(2000))
        assert caught.value.details["limit"] == 1024
    finally:
        small.close()


def test_multi_label_uses_the_manifest_thresholds(tmp_path: Path) -> None:
    path = colour_classifier(tmp_path / "multi.onnx", multi_label=True, thresholds={"green": 0.0001})
    runtime = load_runtime("image-classifier", path, {}, LoadContext())
    try:
        [out] = runtime.predict_batch([runtime.validate_input(picture("red"))])
    finally:
        runtime.close()
    chosen = {entry["label"] for entry in out["labels"]}
    assert out["label"] == "red"
    assert chosen == {"red", "green"}  # green passes its own low cut; blue stays under 0.5


def test_a_model_whose_output_does_not_match_the_labels_is_refused(tmp_path: Path) -> None:
    manifest = ImageClassifierManifest(labels=("a", "b", "c"), preprocessing=Preprocessing(size=32, resize=36))
    path = export_classifier(colour_network(3), tmp_path / "m.onnx", manifest)
    wrong = ImageClassifierManifest(labels=("a", "b"), preprocessing=Preprocessing(size=32, resize=36))
    model = onnx.load(str(path))
    attach(model, wrong)
    onnx.save(model, str(path))
    with pytest.raises(ArtifactInvalid):
        load_runtime("image-classifier", path, {}, LoadContext())


def test_signature_declares_bytes_in_and_labels_out(runtime: ImageClassifierRuntime) -> None:
    signature = runtime.signature()
    assert signature["inputs"] == [{"name": "image", "dtype": "bytes", "shape": [-1]}]
    assert [o["name"] for o in signature["outputs"]] == ["label", "score", "labels"]
    assert signature["labels"] == ["red", "green", "blue"]


def test_the_sandbox_check_predicts_on_made_up_pictures(colour_model: Path) -> None:
    from limelight.runtimes.sandbox_child import check

    verdict = check({"path": str(colour_model), "runtime": "image-classifier", "params": {}})
    assert verdict["format"] == "onnx"
    assert verdict["predictions_tried"] == 2


def test_closing_the_runtime_ends_its_decoders(colour_model: Path) -> None:
    import os

    runtime = load_runtime("image-classifier", colour_model, {"decode_workers": 1}, LoadContext())
    assert isinstance(runtime, ImageClassifierRuntime)
    [pid] = runtime._pool.children  # noqa: SLF001 - the test checks the process is gone
    runtime.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
