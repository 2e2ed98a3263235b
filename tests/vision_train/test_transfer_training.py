"""classify-image/transfer on tiny generated pictures: packaged weights loaded strictly, seeded
augmentation, both stages, the ONNX export with its manifest matching torch, multi-label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from limelight.recipes import get_recipe
from limelight.vision.augment import augmented
from limelight.vision.efficientnet import EfficientNetLite0, packaged_weights_path, pretrained
from limelight.vision.evaluation import evaluate, fit_thresholds
from limelight.vision.manifest import KEY as MANIFEST_KEY
from limelight.vision.manifest import ImageClassifierManifest
from tests.support.local_context import LocalJobContext
from tests.vision_train.pictures import shape_picture, shapes_dataset


def test_the_packaged_imagenet_weights_load_strictly_and_give_7x7_maps() -> None:
    state = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    assert set(state) == set(model.state_dict())  # every key, both ways
    model = pretrained()
    x = torch.zeros(2, 3, 224, 224)
    with torch.no_grad():
        assert model(x).shape == (2, 1000)
        assert model.features(x, pooled=False).shape == (2, 1280, 7, 7)
        maps = model.stem_to(x, 12)
        assert torch.allclose(model.features(maps, from_block=12), model.features(x), atol=1e-5)


def test_augmentation_is_seeded_and_keeps_the_size() -> None:
    picture = Image.new("RGB", (120, 80), (10, 200, 30))
    picture.paste((200, 10, 10), (0, 0, 60, 80))
    first = augmented(picture, 64, np.random.default_rng(3))
    again = augmented(picture, 64, np.random.default_rng(3))
    other = [augmented(picture, 64, np.random.default_rng(seed)) for seed in range(8)]
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert len({o.tobytes() for o in other}) > 1


def _run(tmp_path: Path, dataset: Path, **params: object):  # type: ignore[no-untyped-def]
    ctx = LocalJobContext(tmp_path, {"main": dataset})
    recipe = get_recipe("classify-image/transfer")
    return ctx, recipe.run(ctx, recipe.Params.model_validate({"image_size": 96, "max_epochs": 2, **params}))


def test_both_stages_run_and_the_onnx_export_carries_its_manifest_and_matches_torch(tmp_path: Path) -> None:
    ctx, result = _run(tmp_path, shapes_dataset(tmp_path), time_budget_s=120)
    metrics = result.metrics
    assert result.runtime == "image-classifier" and result.format == "onnx"
    assert metrics["accuracy"] >= 0.75 and metrics["head_accuracy"] >= 0.75
    assert metrics["fine_tune_epochs"] >= 1 and metrics["fine_tuned_accuracy"] is not None
    assert metrics["confusion_matrix"]["labels"] == ["circles", "squares"]
    assert sum(map(sum, metrics["confusion_matrix"]["matrix"])) == metrics["validation_pictures"]
    assert set(metrics["per_class"]) == {"circles", "squares"}
    assert metrics["onnx_max_difference"] <= 1e-4
    assert any(point.get("loss") is not None for point in ctx.metrics)  # the training chart's points
    path = ctx.output_path(".onnx")
    meta = {p.key: p.value for p in onnx.load_model(str(path)).metadata_props}
    manifest = json.loads(meta["limelight.image-classifier"])
    assert manifest["labels"] == ["circles", "squares"] and manifest["preprocessing"]["size"] == 96
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(["probabilities"], {"pixels": np.zeros((3, 3, 96, 96), np.float32)})[0]
    assert out.shape == (3, 2) and np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_a_tight_budget_keeps_the_head_and_skips_fine_tuning(tmp_path: Path) -> None:
    _, result = _run(tmp_path, shapes_dataset(tmp_path), time_budget_s=10)
    assert result.metrics["stage"] == "head" and result.metrics["fine_tuned_accuracy"] is None


def test_labels_csv_with_several_labels_trains_a_multi_label_model(tmp_path: Path) -> None:
    rows = ["path,label"] + [f"{kind}/{i}.png,{kind}|{'even' if i % 2 == 0 else 'odd'}"
                             for kind in ("circles", "squares") for i in range(8)]
    ctx, result = _run(tmp_path, shapes_dataset(tmp_path, labels_csv="\n".join(rows) + "\n"), fine_tune=False)
    assert result.signature["multi_label"] is True
    assert set(result.metrics["per_class"]) == {"circles", "squares", "even", "odd"}
    assert "confusion_matrix" not in result.metrics
    thresholds = result.metrics["thresholds"]  # fitted per label on validation, served from the manifest
    assert set(thresholds) == {"circles", "squares", "even", "odd"}
    assert all(0.0 < cut < 1.0 for cut in thresholds.values())
    path = ctx.output_path(".onnx")
    manifest = ImageClassifierManifest.from_json(
        json.loads({p.key: p.value for p in onnx.load_model(str(path)).metadata_props}[MANIFEST_KEY]))
    assert manifest.multi_label and manifest.thresholds == thresholds
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(["probabilities"], {"pixels": np.zeros((2, 3, 96, 96), np.float32)})[0]
    assert out.shape == (2, 4) and np.all((out > 0) & (out < 1))  # sigmoid per label, not a softmax


def test_thresholds_are_each_labels_best_f1_cut() -> None:
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]], np.float32)
    probabilities = np.array([[0.3, 0.5], [0.35, 0.6], [0.1, 0.8], [0.05, 0.2]], np.float32)
    cuts = fit_thresholds(probabilities, y, ["a", "b"])
    assert 0.1 < cuts["a"] <= 0.3  # below 0.5: label a is only ever scored low, yet separable
    assert 0.6 < cuts["b"] <= 0.8
    pictures = [shape_picture("circles", i) for i in range(4)]
    metrics = evaluate(probabilities, y, ["a", "b"], True, ["1", "2", "3", "4"], pictures, cuts)
    assert metrics["accuracy"] == 1.0 and metrics["mistakes"] == [] and metrics["thresholds"] == cuts
    plain = evaluate(probabilities, y, ["a", "b"], True, ["1", "2", "3", "4"], pictures)  # 0.5 for every label
    assert plain["accuracy"] < 1.0
    assert plain["mistakes"][0]["true"] == ["a"] and plain["mistakes"][0]["predicted"] == ["b"]
    assert plain["mistakes"][0]["thumbnail"].startswith("data:image/jpeg;base64,")


def test_an_image_size_not_divisible_by_32_is_refused() -> None:
    recipe = get_recipe("classify-image/transfer")
    with pytest.raises(ValueError, match="multiple of 32"):
        recipe.Params.model_validate({"image_size": 100})
