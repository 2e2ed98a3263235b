"""Training-time changes to a picture (random resized crop, horizontal flip, colour jitter), with
Pillow and NumPy only: torchvision is not a dependency. Seeded, so a run can be repeated."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

SCALE = (0.5, 1.0)  # share of the picture's area a crop keeps
RATIO = (3 / 4, 4 / 3)
JITTER = 0.2  # brightness, contrast and saturation each move by up to this share


def augmented(image: Image.Image, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random view of ``image`` as ``(size, size, 3)`` uint8."""
    from PIL import Image, ImageEnhance

    left, top, width, height = _crop_box(image.width, image.height, rng)
    view = image.resize((size, size), Image.Resampling.BILINEAR, box=(left, top, left + width, top + height))
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        view = enhancer(view).enhance(float(rng.uniform(1 - JITTER, 1 + JITTER)))
    return np.asarray(view, dtype=np.uint8)


def _crop_box(width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*SCALE)
        ratio = math.exp(rng.uniform(math.log(RATIO[0]), math.log(RATIO[1])))
        w, h = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    side = min(width, height)  # fall back to the centre square
    return (width - side) // 2, (height - side) // 2, side, side
