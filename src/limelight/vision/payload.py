"""An image as it arrives on the wire (raw bytes, base64, a ``data:`` URI) to its bytes.

Only the envelope is read here: the bytes themselves are opened by a decoder child alone
(``vision.decode_pool``). The size limit is checked on the encoded length first, so an oversized
base64 string is refused before it is decoded.
"""

from __future__ import annotations

import base64
import binascii

from limelight.errors import ImageTooLarge, ValidationFailed

__all__ = ["image_bytes", "looks_like_image"]

# The magic numbers of the accepted formats: raw bytes that start so are not base64 text.
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def looks_like_image(data: bytes) -> bool:
    return data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def image_bytes(value: object, field: str, max_bytes: int) -> bytes:
    """The image bytes in ``value``: bytes as they are (or base64 text in bytes), a base64 string
    with or without a ``data:image/...;base64,`` prefix. 413 past ``max_bytes``, 422 otherwise."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if looks_like_image(data):
            return _checked_size(data, field, max_bytes)
        try:  # base64 carried in a BYTES tensor
            return image_bytes(data.decode("ascii"), field, max_bytes)
        except (UnicodeDecodeError, ValidationFailed):
            return _checked_size(data, field, max_bytes)  # not base64: the decoder says what it is
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be an image: base64 text or a file",
                               details={"field": field, "expected": "base64 string"})
    text = value.strip()
    if text.startswith("data:"):
        header, comma, text = text.partition(",")
        if not comma or not header.endswith(";base64"):
            raise ValidationFailed(f"{field}: a data URI must be base64 (data:image/...;base64,...)",
                                   details={"field": field})
    if len(text) * 3 // 4 > max_bytes + 3:
        raise _too_large(field, len(text) * 3 // 4, max_bytes)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = _urlsafe(text, field)
    if not data:
        raise ValidationFailed(f"{field} is empty", details={"field": field, "reason": "empty_image"})
    return _checked_size(data, field, max_bytes)


def _urlsafe(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{field} is not valid base64", details={"field": field, "reason": "not_base64"}) from None


def _checked_size(data: bytes, field: str, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise _too_large(field, len(data), max_bytes)
    return data


def _too_large(field: str, size: int, max_bytes: int) -> ImageTooLarge:
    return ImageTooLarge(f"{field} is {size} bytes; the limit is {max_bytes}.",
                         details={"field": field, "reason": "too_many_bytes", "bytes": size, "limit": max_bytes})
