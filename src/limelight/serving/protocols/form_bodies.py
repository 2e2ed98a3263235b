"""A ``multipart/form-data`` request body as the same object a JSON body gives a verb.

Files (images from a form or ``curl -F image=@cat.jpg``) cannot travel in JSON without base64, so a
verb may also be called with a form: each file part becomes ``bytes``, each plain field its value
read as JSON when it is JSON (``top_k=3`` -> ``3``) and as text otherwise, and a name given several
times (``-F images=@a.jpg -F images=@b.jpg``) becomes a list. Verbs then see one shape of body
whichever way it came; what the bytes are is theirs to judge. Parsing is Starlette's (the
``python-multipart`` parser FastAPI uses), on a body whose size the transport has already capped.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from limelight.errors import ValidationFailed

__all__ = ["is_form", "form_object"]

MAX_PARTS = 256


def is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


async def form_object(content_type: str, body: bytes) -> dict[str, Any]:
    """The form's fields by name: files as bytes, fields as JSON values or text, repeats as lists."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(Headers({"content-type": content_type}), stream(),
                             max_files=MAX_PARTS, max_fields=MAX_PARTS)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ValidationFailed(f"The body is not valid multipart/form-data: {exc.message}",
                               details={"field": "body"}) from None
    grouped: dict[str, list[Any]] = {}
    try:
        for name, value in form.multi_items():
            item = await value.read() if isinstance(value, UploadFile) else _field(value)
            grouped.setdefault(name, []).append(item)
    finally:
        await form.close()
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


def _field(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
