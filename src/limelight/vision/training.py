"""Transfer learning for ``classify-image/transfer``: a new head on frozen ImageNet features, then
(time allowing) the last blocks fine-tuned, the better of the two kept by validation accuracy.

Stage 1 fits a logistic head on the frozen 1280 features of the evaluation view (and its mirror
image) of every training picture: seconds, and already strong. Stage 2 starts from that head,
unfreezes the last ``unfreeze_blocks`` blocks, and trains with Adam on augmented views (random
resized crop, flip, colour jitter) under a cosine schedule, evaluating each epoch and stopping
early when validation stops improving or the time budget runs out. Batch norms keep their ImageNet
statistics (small batches would only add noise). Everything runs in the worker process.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from limelight.vision.augment import augmented
from limelight.vision.efficientnet import FEATURES, EfficientNetLite0
from limelight.vision.images_data import Pictures, Split
from limelight.vision.preprocess import Preprocessing

Report = Callable[[dict[str, float], int, int | None], None]  # (values, step, epoch): the training chart
EVAL_BATCH = 32
EXPORT_RESERVE_S = 20.0  # evaluation, ONNX export and its check after training


@dataclass
class TrainSettings:
    time_budget_s: float
    fine_tune: bool
    unfreeze_blocks: int
    max_epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    seed: int
    head_views: int = 4  # augmented views of each training picture the head also learns from


@dataclass
class Trained:
    model: nn.Module  # pixels -> probabilities (softmax or sigmoid inside)
    stage: str  # "head" or "fine-tuned"
    head_accuracy: float
    fine_tuned_accuracy: float | None
    epochs: int
    history: list[dict[str, float]] = field(default_factory=list)


class Classifier(nn.Module):
    """The backbone and a new head, with the decision function inside: what gets exported."""

    def __init__(self, backbone: EfficientNetLite0, classes: int, multi_label: bool) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(FEATURES, classes)
        self.multi_label = multi_label

    def logits(self, pixels: torch.Tensor, frozen_until: int = 0) -> torch.Tensor:
        if frozen_until:
            with torch.no_grad():
                maps = self.backbone.stem_to(pixels, frozen_until)
            return self.head(self.backbone.features(maps, from_block=frozen_until))
        return self.head(self.backbone.features(pixels))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        logits = self.logits(pixels)
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=1)


def targets(pictures: Pictures, classes: list[str], multi_label: bool) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    if multi_label:
        out = np.zeros((len(pictures.labels), len(classes)), np.float32)
        for row, labels in enumerate(pictures.labels):
            out[row, [index[label] for label in labels]] = 1.0
        return out
    return np.array([index[labels[0]] for labels in pictures.labels], np.int64)


def train(backbone: EfficientNetLite0, split: Split, prep: Preprocessing, settings: TrainSettings,
          report: Report, log: Callable[[str], None], check_cancelled: Callable[[], None]) -> Trained:
    started = time.monotonic()
    torch.manual_seed(settings.seed)
    model = Classifier(backbone, len(split.classes), split.multi_label).eval()
    y_train = targets(split.train, split.classes, split.multi_label)
    y_valid = targets(split.valid, split.classes, split.multi_label)
    head_accuracy = _fit_head(model, split, prep, y_train, y_valid, settings, log)
    report({"valid_accuracy": head_accuracy}, 0, 0)
    log(f"stage 1 (new head on frozen features): validation accuracy {head_accuracy:.4f} "
        f"in {time.monotonic() - started:.0f} s")
    result = Trained(model, "head", head_accuracy, None, 0)
    remaining = settings.time_budget_s - (time.monotonic() - started)
    if settings.fine_tune and settings.unfreeze_blocks > 0 and remaining > 30:
        tuned = copy.deepcopy(model)
        deadline = started + settings.time_budget_s - EXPORT_RESERVE_S  # the kept model is exported after
        accuracy, epochs, history = _fine_tune(tuned, split, prep, y_train, y_valid, settings, deadline,
                                               report, log, check_cancelled)
        result.fine_tuned_accuracy, result.epochs, result.history = accuracy, epochs, history
        if accuracy > head_accuracy:
            result.model, result.stage = tuned, "fine-tuned"
    log(f"kept the {result.stage} model: validation accuracy "
        f"{max(head_accuracy, result.fine_tuned_accuracy or 0):.4f}")
    return result


def _fit_head(model: Classifier, split: Split, prep: Preprocessing, y_train: np.ndarray, y_valid: np.ndarray,
              settings: TrainSettings, log: Callable[[str], None]) -> float:
    """A logistic head on frozen features of each training picture, its mirror image and a few
    augmented views (more, varied examples for the same cost as a forward pass each)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(settings.seed + 1)
    train_pixels = split.train.eval_pixels
    views = [train_pixels, train_pixels[:, :, ::-1, :]]
    views += [np.stack([augmented(image, prep.size, rng) for image in split.train.images])
              for _ in range(settings.head_views)] if len(train_pixels) else []
    features = _features(model.backbone, np.concatenate(views), prep)
    labels = np.concatenate([y_train] * len(views))
    valid_features = _features(model.backbone, split.valid.eval_pixels, prep)
    best: tuple[float, Any] | None = None
    for c in (0.1, 0.3, 1.0):  # a small grid; validation picks
        base = LogisticRegression(C=c, max_iter=2000)
        fitted = (OneVsRestClassifier(base) if split.multi_label else base).fit(features, labels)
        accuracy = _accuracy(fitted.predict_proba(valid_features), y_valid, split.multi_label)
        if best is None or accuracy > best[0]:
            best = (accuracy, fitted)
    assert best is not None
    accuracy, fitted = best
    coef, intercept = _linear_parts(fitted, split.multi_label, len(split.classes))
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(coef))
        model.head.bias.copy_(torch.from_numpy(intercept))
    log(f"head fitted on {len(labels)} views of {len(y_train)} pictures")
    return accuracy


def _linear_parts(fitted: Any, multi_label: bool, classes: int) -> tuple[np.ndarray, np.ndarray]:
    if multi_label:
        coef = np.vstack([e.coef_ for e in fitted.estimators_])
        intercept = np.concatenate([e.intercept_ for e in fitted.estimators_])
    elif classes == 2:  # sklearn keeps one row for two classes: softmax over (-z/2, z/2) is the same model
        coef = np.vstack([-fitted.coef_ / 2, fitted.coef_ / 2])
        intercept = np.concatenate([-fitted.intercept_ / 2, fitted.intercept_ / 2])
    else:
        coef, intercept = fitted.coef_, fitted.intercept_
    return coef.astype(np.float32), intercept.astype(np.float32)


def _features(backbone: EfficientNetLite0, pixels: np.ndarray, prep: Preprocessing) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, len(pixels), EVAL_BATCH):
            batch = _tensor(pixels[start:start + EVAL_BATCH], prep)
            out.append(backbone.features(batch).numpy())
    return np.concatenate(out) if out else np.zeros((0, FEATURES), np.float32)


def _tensor(pixels: np.ndarray, prep: Preprocessing) -> torch.Tensor:
    return torch.from_numpy(np.stack([prep.normalise(p) for p in pixels]))


def predict(model: nn.Module, pixels: np.ndarray, prep: Preprocessing) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, len(pixels), EVAL_BATCH):
            out.append(model(_tensor(pixels[start:start + EVAL_BATCH], prep)).numpy())
    return np.concatenate(out)


def _accuracy(probabilities: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    if multi_label:  # exact match of the label set at 0.5
        return float(np.mean(np.all((probabilities >= 0.5) == (y >= 0.5), axis=1)))
    return float(np.mean(probabilities.argmax(axis=1) == y))


def _fine_tune(model: Classifier, split: Split, prep: Preprocessing, y_train: np.ndarray, y_valid: np.ndarray,
               settings: TrainSettings, deadline: float, report: Report, log: Callable[[str], None],
               check_cancelled: Callable[[], None]) -> tuple[float, int, list[dict[str, float]]]:
    blocks = len(model.backbone._blocks)
    frozen_until = max(0, blocks - settings.unfreeze_blocks)
    trainable = [p for b in model.backbone._blocks[frozen_until:] for p in b.parameters()]
    trainable += list(model.backbone._conv_head.parameters()) + list(model.backbone._bn1.parameters())
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam([{"params": trainable, "lr": settings.learning_rate / 3},
                                  {"params": model.head.parameters(), "lr": settings.learning_rate}])
    steps_per_epoch = max(1, math.ceil(len(y_train) / settings.batch_size))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps_per_epoch * settings.max_epochs)
    loss_fn: nn.Module = nn.BCEWithLogitsLoss() if split.multi_label else nn.CrossEntropyLoss()
    rng = np.random.default_rng(settings.seed)
    best_accuracy, best_state, stale, history, step = -1.0, None, 0, [], 0
    epoch_s = 0.0
    for epoch in range(1, settings.max_epochs + 1):
        if time.monotonic() + epoch_s > deadline:
            log(f"time budget reached before epoch {epoch}")
            break
        epoch_started = time.monotonic()
        losses: list[float] = []
        out_of_time = False
        for batch in np.array_split(rng.permutation(len(y_train)), steps_per_epoch):
            check_cancelled()
            if time.monotonic() > deadline and losses:  # the epoch is cut short; what it learnt is judged
                out_of_time = True
                break
            views = np.stack([augmented(split.train.images[i], prep.size, rng) for i in batch])
            logits = model.logits(_tensor(views, prep), frozen_until)
            loss = loss_fn(logits, torch.from_numpy(y_train[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            step += 1
        accuracy = _accuracy(predict(model, split.valid.eval_pixels, prep), y_valid, split.multi_label)
        point = {"loss": float(np.mean(losses)), "valid_accuracy": accuracy}
        history.append({"epoch": epoch, **point})
        report(point, step, epoch)
        log(f"epoch {epoch}: loss {point['loss']:.4f}, validation accuracy {accuracy:.4f}")
        improved = accuracy > best_accuracy
        if improved:
            best_accuracy, best_state, stale = accuracy, copy.deepcopy(model.state_dict()), 0
        if out_of_time:
            log(f"time budget reached during epoch {epoch}")
            break
        if not improved:
            stale += 1
            if stale >= settings.patience:
                log(f"early stop: no better validation accuracy for {stale} epochs")
                break
        epoch_s = time.monotonic() - epoch_started
    if best_state is not None:
        model.load_state_dict(best_state)
    for p in model.parameters():
        p.requires_grad_(False)
    return best_accuracy, len(history), history
