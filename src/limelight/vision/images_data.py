"""A stored ``images`` dataset as pictures ready for training: decoded once, the evaluation view
made with the artifact's own preprocessing, and split into training and validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from limelight.errors import InvalidParams
from limelight.imaging.decode import ImageLimits, decode_rgb
from limelight.vision.preprocess import Preprocessing

if TYPE_CHECKING:
    from PIL import Image

_KEEP_SIDE = 1.15  # pictures are kept at this times the crop side: room for random crops, less memory


@dataclass
class Pictures:
    ids: list[str]
    labels: list[list[str]]
    images: list[Image.Image]  # shrunk for augmentation
    eval_pixels: np.ndarray  # (n, size, size, 3) uint8: Preprocessing.crop of the original, as served
    data: list[bytes]  # the original bytes (thumbnails of mistakes)


@dataclass
class Split:
    train: Pictures
    valid: Pictures
    classes: list[str]
    multi_label: bool
    source: str  # "archive" (the upload's own split) or "stratified"


def load_split(path: Path, prep: Preprocessing, validation_fraction: float, seed: int) -> Split:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["image_id", "labels", "split", "image"])
    ids = table.column("image_id").to_pylist()
    labels = table.column("labels").to_pylist()
    splits = table.column("split").to_pylist()
    data = table.column("image").to_pylist()
    classes = sorted({label for row in labels for label in row})
    if len(classes) < 2:
        raise InvalidParams("An image classifier needs at least two labels.", details={"labels": classes})
    multi_label = any(len(row) > 1 for row in labels)
    if "train" in splits and "validation" in splits:
        train_idx = [i for i, s in enumerate(splits) if s == "train"]
        valid_idx = [i for i, s in enumerate(splits) if s == "validation"]
        source = "archive"
    else:
        train_idx, valid_idx = _stratified(labels, validation_fraction, seed)
        source = "stratified"
    return Split(_pictures(train_idx, ids, labels, data, prep), _pictures(valid_idx, ids, labels, data, prep),
                 classes, multi_label, source)


def _stratified(labels: list[list[str]], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """At least one picture of every (first) label in validation, about ``fraction`` of each."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, row in enumerate(labels):
        by_label.setdefault(row[0], []).append(i)
    train, valid = [], []
    for members in by_label.values():
        order = rng.permutation(members).tolist()
        take = max(1, round(len(order) * fraction)) if len(order) > 1 else 0
        valid += order[:take]
        train += order[take:]
    return sorted(train), sorted(valid)


def _pictures(index: list[int], ids: list[str], labels: list[list[str]], data: list[bytes],
              prep: Preprocessing) -> Pictures:
    from PIL import Image

    limits = ImageLimits()
    shrunk, pixels = [], []
    keep = round(prep.resize * _KEEP_SIDE)
    for i in index:
        picture = decode_rgb(data[i], limits)  # validated at upload, in the confined reader
        pixels.append(prep.crop(picture))
        scale = keep / min(picture.size)
        if scale < 1:
            picture = picture.resize((round(picture.width * scale), round(picture.height * scale)),
                                     Image.Resampling.BILINEAR)
        shrunk.append(picture)
    size = prep.size
    return Pictures([ids[i] for i in index], [labels[i] for i in index], shrunk,
                    np.stack(pixels) if pixels else np.zeros((0, size, size, 3), np.uint8), [data[i] for i in index])
