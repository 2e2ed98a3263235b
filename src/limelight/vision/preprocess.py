"""The one transform from a decoded picture to the model's input, shared by training and serving.

It is stored in the artifact (``Preprocessing.to_json``) and applied by the same function on both
sides, so a picture scored at serving gets byte for byte the input its model was validated on:
resize the shorter side to ``resize`` (bilinear), crop the centre ``size`` x ``size`` square, scale to
[0, 1] and normalise per channel. Training augmentation happens before this, on the picture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from limelight.errors import InvalidParams

if TYPE_CHECKING:
    from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    size: int = 224  # the square input side
    resize: int = 256  # the shorter side after resizing, before the centre crop
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        if not 16 <= self.size <= self.resize <= 2048:
            raise InvalidParams("preprocessing needs 16 <= size <= resize <= 2048",
                                details={"size": self.size, "resize": self.resize})
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise InvalidParams("preprocessing needs three means and three positive standard deviations")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Preprocessing:
        try:
            return cls(size=int(value["size"]), resize=int(value["resize"]),
                       mean=tuple(float(v) for v in value["mean"]),  # type: ignore[arg-type]
                       std=tuple(float(v) for v in value["std"]))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParams(f"invalid preprocessing: {exc}") from exc

    def tensor(self, image: Image.Image) -> np.ndarray:
        """``(3, size, size)`` float32 for one RGB picture."""
        return self.normalise(self.crop(image))

    def crop(self, image: Image.Image) -> np.ndarray:
        """The resized, centre-cropped picture as ``(size, size, 3)`` uint8."""
        from PIL import Image

        width, height = image.size
        scale = self.resize / min(width, height)
        resized = image.resize((max(self.size, round(width * scale)), max(self.size, round(height * scale))),
                               Image.Resampling.BILINEAR)
        left, top = (resized.width - self.size) // 2, (resized.height - self.size) // 2
        return np.asarray(resized.crop((left, top, left + self.size, top + self.size)), dtype=np.uint8)

    def normalise(self, pixels: np.ndarray) -> np.ndarray:
        """``(size, size, 3)`` uint8 to ``(3, size, size)`` float32, scaled and normalised."""
        scaled = pixels.astype(np.float32) / np.float32(255.0)
        scaled -= np.asarray(self.mean, np.float32)
        scaled /= np.asarray(self.std, np.float32)
        return np.ascontiguousarray(scaled.transpose(2, 0, 1))
