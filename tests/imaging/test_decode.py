"""Decoding with limits: formats by their bytes, bombs refused from the header, upright RGB out."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from limelight.errors import ImageInvalid, ImageTooLarge
from limelight.imaging.decode import ImageLimits, decode_rgb, probe
from limelight.vision.preprocess import Preprocessing


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header declaring a huge picture, with a tiny (wrong) body: a decompression bomb's face."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_accepted_format_decodes_to_rgb(fmt: str) -> None:
    data = _encoded(Image.new("RGB", (40, 30), (200, 10, 10)), fmt)
    image = decode_rgb(data, ImageLimits())
    assert image.mode == "RGB" and image.size == (40, 30)
    assert probe(data, ImageLimits()).format == fmt.lower()


def test_transparency_is_composited_on_white() -> None:
    data = _encoded(Image.new("RGBA", (20, 20), (0, 0, 0, 0)), "PNG")
    assert decode_rgb(data, ImageLimits()).getpixel((5, 5)) == (255, 255, 255)


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    red, green, blue = decode_rgb(out.getvalue(), ImageLimits()).getpixel((8, 8))
    assert red > 200 and blue < 50


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _encoded(Image.new("RGB", (60, 20)), "JPEG", exif=exif)
    assert decode_rgb(data, ImageLimits()).size == (20, 60)


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    with pytest.raises(ImageTooLarge) as refused:
        probe(_png_declaring(30_000, 30_000), ImageLimits(max_pixels=40_000_000))
    assert refused.value.details["reason"] == "too_many_pixels"
    assert refused.value.details["limit"] == 40_000_000


def test_too_many_bytes_is_413_with_the_limit() -> None:
    data = _encoded(Image.new("RGB", (64, 64)), "PNG")
    with pytest.raises(ImageTooLarge) as refused:
        probe(data, ImageLimits(max_bytes=50))
    assert refused.value.status == 413 and refused.value.details["limit"] == 50


@pytest.mark.parametrize(("data", "reason"), [
    (b"just some text, not a picture", "not_an_image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
])
def test_non_images_are_422(data: bytes, reason: str) -> None:
    with pytest.raises(ImageInvalid) as refused:
        decode_rgb(data, ImageLimits())
    assert refused.value.details["reason"] == reason


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_formats_outside_the_list_are_refused_by_their_bytes(fmt: str) -> None:
    with pytest.raises(ImageInvalid) as refused:
        decode_rgb(_encoded(Image.new("RGB", (20, 20)), fmt), ImageLimits())
    assert refused.value.details["reason"] == "unsupported_format"


def test_a_truncated_image_is_422_not_a_crash() -> None:
    data = _encoded(Image.new("RGB", (200, 200), (1, 2, 3)), "PNG")
    with pytest.raises(ImageInvalid) as refused:
        decode_rgb(data[: len(data) // 2], ImageLimits())
    assert refused.value.details["reason"] == "undecodable"


def test_a_tracking_pixel_is_too_small() -> None:
    with pytest.raises(ImageInvalid) as refused:
        probe(_encoded(Image.new("RGB", (1, 1)), "PNG"), ImageLimits())
    assert refused.value.details["reason"] == "too_small"


def test_preprocessing_resizes_the_shorter_side_crops_the_centre_and_normalises() -> None:
    prep = Preprocessing(size=32, resize=40)
    picture = Image.new("RGB", (100, 50), (255, 255, 255))
    picture.paste((0, 0, 0), (0, 0, 20, 50))  # a black band on the left, outside the centre crop
    pixels = prep.crop(picture)
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.uint8
    assert pixels.min() == 255
    tensor = prep.tensor(picture)
    assert tensor.shape == (3, 32, 32) and tensor.dtype == np.float32
    expected = (1.0 - np.asarray(prep.mean)) / np.asarray(prep.std)
    np.testing.assert_allclose(tensor[:, 0, 0], expected, rtol=1e-6)
    assert Preprocessing.from_json(prep.to_json()) == prep
