"""Tiny generated picture sets (circles vs squares) stored as an images dataset would be."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from limelight.datasets.ingest.images import ImageArchiveOptions, ingest_images
from tests.datasets_images.archives import zip_of


def shape_picture(kind: str, i: int, size: int = 64) -> bytes:
    image = Image.new("RGB", (size, size), ((30 + i * 7) % 255, 120, 90))
    draw = ImageDraw.Draw(image)
    if kind == "circles":
        draw.ellipse((8 + i % 5, 8, size - 8, size - 8 - i % 5), fill=(250, 250, 250))
    else:
        draw.rectangle((10, 10 + i % 5, size - 10 - i % 5, size - 10), fill=(10, 10, 10))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def shapes_dataset(folder: Path, per_label: int = 8, labels_csv: str | None = None) -> Path:
    """An images dataset's Parquet made by the real (confined) reader from a generated zip."""
    files = {f"{kind}/{i}.png": shape_picture(kind, i) for kind in ("circles", "squares") for i in range(per_label)}
    if labels_csv is not None:
        files["labels.csv"] = labels_csv.encode()
    (folder / "shapes.zip").write_bytes(zip_of(files))
    ingest_images(folder / "shapes.zip", filename="shapes.zip", dest=folder / "shapes.parquet",
                  options=ImageArchiveOptions())
    return folder / "shapes.parquet"
