"""``classify-image/transfer``: an image classifier on an ``images`` dataset, by transfer learning
from the ImageNet EfficientNet-Lite0 weights shipped in a package (``vision.efficientnet``).

Stage 1 fits a new head on frozen features; stage 2 fine-tunes the last blocks within the time
budget (``vision.training``); the better one by validation accuracy is exported to ONNX with its
manifest and served by the ``image-classifier`` runtime with onnxruntime. The archive's own split is
used when it has one (``train``/``val`` folders), else a stratified one.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import Field, field_validator

from limelight.recipes.base import JobContext, RecipeParams, RecipeResult


class ImageTransferParams(RecipeParams):
    time_budget_s: int = Field(600, ge=10, le=86_400, description="wall-clock seconds for both stages")
    head_views: int = Field(4, ge=0, le=32, description="augmented views of each training picture the new head "
                            "also learns from (besides the picture and its mirror image)")
    fine_tune: bool = Field(True, description="after the new head, fine-tune the last blocks (time allowing)")
    unfreeze_blocks: int = Field(4, ge=0, le=16, description="how many of Lite0's 16 blocks stage 2 trains")
    max_epochs: int = Field(12, ge=1, le=200, description="stage 2 epochs at most (early stopping may end sooner)")
    batch_size: int = Field(16, ge=1, le=256)
    learning_rate: float = Field(1e-4, gt=0, le=0.1, description="the head's; the unfrozen blocks get a third")
    patience: int = Field(3, ge=1, le=50, description="epochs without a better validation accuracy before stopping")
    validation_fraction: float = Field(0.2, gt=0, lt=0.9, description="when the archive has no split of its own")
    image_size: int = Field(224, ge=96, le=384, description="input side in pixels (a multiple of 32)")
    seed: int = 42

    @field_validator("image_size")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        if value % 32:
            raise ValueError("image_size must be a multiple of 32")
        return value


class ImageTransferRecipe:
    name: ClassVar[str] = "classify-image/transfer"
    task: ClassVar[str] = "classify-image"
    dataset_kind: ClassVar[str] = "images"
    description: ClassVar[str] = ("Image classifier from your labelled pictures: EfficientNet-Lite0 ImageNet features, "
                                  "a new head, then the last blocks fine-tuned; served with onnxruntime.")
    Params: ClassVar[type[RecipeParams]] = ImageTransferParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.vision.efficientnet import pretrained
        from limelight.vision.evaluation import evaluate, example_picture, fit_thresholds
        from limelight.vision.export import export, manifest
        from limelight.vision.images_data import load_split
        from limelight.vision.preprocess import Preprocessing
        from limelight.vision.training import TrainSettings, predict, targets, train

        assert isinstance(params, ImageTransferParams)
        started = time.monotonic()
        prep = Preprocessing(size=params.image_size, resize=round(params.image_size * 256 / 224))
        split = load_split(ctx.dataset_path(), prep, params.validation_fraction, params.seed)
        ctx.log(f"{len(split.train.ids)} training and {len(split.valid.ids)} validation pictures "
                f"({split.source} split), {len(split.classes)} labels")
        ctx.progress(5, "pictures decoded")
        settings = TrainSettings(time_budget_s=params.time_budget_s - (time.monotonic() - started),
                                 fine_tune=params.fine_tune, unfreeze_blocks=params.unfreeze_blocks,
                                 max_epochs=params.max_epochs, batch_size=params.batch_size,
                                 learning_rate=params.learning_rate, patience=params.patience, seed=params.seed,
                                 head_views=params.head_views)
        trained = train(pretrained(), split, prep, settings, report=lambda v, step, epoch: ctx.metric(v, step, epoch),
                        log=ctx.log, check_cancelled=ctx.check_cancelled)
        ctx.progress(90, "evaluating and exporting")
        probabilities = predict(trained.model, split.valid.eval_pixels, prep)
        y_valid = targets(split.valid, split.classes, split.multi_label)
        # multi-label: each label's cut fitted on validation, written into the manifest serving reads
        thresholds = fit_thresholds(probabilities, y_valid, split.classes) if split.multi_label else None
        metrics: dict[str, Any] = evaluate(probabilities, y_valid, split.classes, split.multi_label,
                                           split.valid.ids, split.valid.data, thresholds)
        check = _normalised(split.valid.eval_pixels[:16], prep)
        difference = export(trained.model, prep, manifest(split.classes, split.multi_label, prep, thresholds),
                            ctx.output_path(".onnx"), check)
        metrics |= {"stage": trained.stage, "head_accuracy": round(trained.head_accuracy, 6),
                    "fine_tuned_accuracy": None if trained.fine_tuned_accuracy is None
                    else round(trained.fine_tuned_accuracy, 6),
                    "fine_tune_epochs": trained.epochs, "train_pictures": len(split.train.ids),
                    "validation_pictures": len(split.valid.ids), "split": split.source,
                    "onnx_max_difference": difference, "train_seconds": round(time.monotonic() - started, 1)}
        ctx.log(f"validation accuracy {metrics['accuracy']:.4f} ({trained.stage}); ONNX matches torch within "
                f"{difference:.1e}")
        signature = {"inputs": [{"name": "image", "dtype": "bytes", "shape": [-1]}],
                     "outputs": [{"name": "probabilities", "dtype": "float32", "shape": [-1, len(split.classes)]}],
                     "labels": split.classes, "multi_label": split.multi_label}
        return RecipeResult(runtime="image-classifier", format="onnx", metrics=metrics, signature=signature,
                            params=params.model_dump(), gate_metric="accuracy",
                            summary={"accuracy": metrics["accuracy"], "stage": trained.stage},
                            example={"verb": "classify", "body": {
                                "image": example_picture(split.valid.eval_pixels[0]),
                                "top_k": min(3, len(split.classes))}})


def _normalised(pixels: Any, prep: Any) -> Any:
    import numpy as np

    return np.stack([prep.normalise(p) for p in pixels]) if len(pixels) else np.zeros((0, 3, prep.size, prep.size),
                                                                                        np.float32)
