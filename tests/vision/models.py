"""Tiny real ``image-classifier`` artifacts and pictures, for tests (reusable by training's tests).

``colour_classifier`` is a torch ``nn.Sequential`` (1x1 conv, global average pooling, linear,
softmax or sigmoid) exported to ONNX with the manifest attached. Its weights are set by hand so its
answers are known: label ``i`` scores the mean of colour channel ``i``, so a red picture is "red".
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from limelight.vision.manifest import ImageClassifierManifest, attach
from limelight.vision.preprocess import Preprocessing

COLOURS = ("red", "green", "blue")
RGB = {"red": (230, 20, 20), "green": (20, 230, 20), "blue": (20, 20, 230)}
TINY = Preprocessing(size=32, resize=36)


def colour_network(n_labels: int = 3, *, multi_label: bool = False, gain: float = 4.0) -> Any:
    import torch
    from torch import nn

    conv = nn.Conv2d(3, 3, kernel_size=1, bias=False)
    linear = nn.Linear(3, n_labels)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(3).reshape(3, 3, 1, 1))
        weight = torch.zeros(n_labels, 3)
        for i in range(n_labels):
            weight[i, i % 3] = gain
        linear.weight.copy_(weight)
        linear.bias.zero_()
    head = nn.Sigmoid() if multi_label else nn.Softmax(dim=1)
    return nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), linear, head).eval()


def export_classifier(network: Any, path: Path, manifest: ImageClassifierManifest | None) -> Path:
    """``network`` as ONNX (``pixels`` -> ``probabilities``, batch dynamic), with ``manifest`` if given."""
    import onnx
    import torch

    size = manifest.preprocessing.size if manifest is not None else TINY.size
    buffer = io.BytesIO()
    torch.onnx.export(network, (torch.zeros(1, 3, size, size),), buffer, input_names=["pixels"],
                      output_names=["probabilities"], dynamic_axes={"pixels": {0: "n"}, "probabilities": {0: "n"}},
                      opset_version=17, dynamo=False)
    model = onnx.load_model_from_string(buffer.getvalue())
    if manifest is not None:
        attach(model, manifest)
    path.write_bytes(model.SerializeToString())
    return path


def colour_classifier(path: Path, *, multi_label: bool = False, thresholds: dict[str, float] | None = None,
                      labels: tuple[str, ...] = COLOURS, preprocessing: Preprocessing = TINY) -> Path:
    manifest = ImageClassifierManifest(labels=labels, multi_label=multi_label, thresholds=thresholds,
                                       preprocessing=preprocessing, architecture="colour-test")
    return export_classifier(colour_network(len(labels), multi_label=multi_label), path, manifest)


def picture(colour: str | tuple[int, int, int], fmt: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    """A plain picture of one colour, encoded as ``fmt``."""
    from PIL import Image

    rgb = RGB[colour] if isinstance(colour, str) else colour
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_picture(seed: int = 0, size: tuple[int, int] = (48, 40), fmt: str = "JPEG") -> bytes:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG header declaring ``width`` x ``height`` pixels with almost no data: a decompression bomb's
    signature, refused from the header before any pixel buffer exists."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
