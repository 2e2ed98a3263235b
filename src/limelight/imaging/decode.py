"""Decoding one image with limits checked before the pixels are.

The header is read first (Pillow opens lazily), so a decompression bomb (a few KB declaring
100k x 100k pixels) is refused from its declared size, before any pixel buffer exists. Only JPEG,
PNG, WebP and GIF are accepted, whatever the file is called; an animated GIF or WebP gives its first
frame. Every image comes out as 8-bit RGB: alpha is composited on white, palettes and greyscale are
expanded, and the EXIF orientation is applied, so a phone photo is classified the way it looks.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limelight.errors import ImageInvalid, ImageTooLarge

if TYPE_CHECKING:
    from PIL import Image

FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 20 << 20
    max_pixels: int = 40_000_000  # width x height as declared by the header
    min_side: int = 8  # smaller than this is an icon or a tracking pixel, not a picture

    def to_json(self) -> dict[str, int]:
        return {"max_bytes": self.max_bytes, "max_pixels": self.max_pixels, "min_side": self.min_side}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # jpeg, png, webp, gif
    width: int
    height: int


def probe(data: bytes, limits: ImageLimits) -> ImageInfo:
    """The image's format and declared size, checked against ``limits``; no pixel is decoded."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"The image is {len(data)} bytes; the limit is {limits.max_bytes}.",
                            details={"reason": "too_many_bytes", "bytes": len(data), "limit": limits.max_bytes})
    try:
        with _quiet(), Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
    except Image.DecompressionBombError as exc:  # past twice Pillow's own limit: refused at open
        raise ImageTooLarge("The image declares more pixels than the limit.",
                            details={"reason": "too_many_pixels", "limit": limits.max_pixels}) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageInvalid("The file is not an image that can be read (JPEG, PNG, WebP or GIF).",
                           details={"reason": "not_an_image"}) from exc
    return _checked(fmt, width, height, limits)


def decode_rgb(data: bytes, limits: ImageLimits) -> Image.Image:
    """The image as a fully decoded 8-bit RGB picture (first frame, EXIF orientation applied)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    info = probe(data, limits)
    try:
        with _quiet(), Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            return _to_rgb(upright)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageInvalid(f"The {info.format.upper()} image is damaged or truncated.",
                           details={"reason": "undecodable", "format": info.format}) from exc


def _checked(fmt: str | None, width: int, height: int, limits: ImageLimits) -> ImageInfo:
    name = FORMATS.get(fmt or "")
    if name is None:
        raise ImageInvalid(f"{fmt or 'This'} images are not accepted; send JPEG, PNG, WebP or GIF.",
                           details={"reason": "unsupported_format", "format": fmt, "allowed": sorted(FORMATS.values())})
    if width * height > limits.max_pixels:
        raise ImageTooLarge(f"The image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels.",
                            details={"reason": "too_many_pixels", "width": width, "height": height,
                                     "limit": limits.max_pixels})
    if min(width, height) < limits.min_side:
        raise ImageInvalid(f"The image is {width}x{height} pixels; each side needs at least {limits.min_side}.",
                           details={"reason": "too_small", "width": width, "height": height,
                                    "min_side": limits.min_side})
    return ImageInfo(name, width, height)


def _to_rgb(image: Image.Image) -> Image.Image:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Pillow warns on big images; ``probe`` decides from the declared size instead."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield
