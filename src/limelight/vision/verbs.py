"""The image classifier's verb on ``/v1/models/{org}/{name}:classify``.

Body ``{"images": [base64, ...] (1..64) | "image": base64, "top_k": 1..L}`` (a ``data:image/...;base64,``
prefix is accepted), or the same fields as a ``multipart/form-data`` form whose file parts are the
pictures (``-F image=@cat.jpg``, or ``images`` given several times) ->
``{"predictions": [{"label", "score", "labels": [{"label", "score"}]}], "model", "version"}``.
``labels`` lists the ``top_k`` best labels (5 by default) of a single-label model, and the labels
over their thresholds of a multi-label one. Images go through the version's batcher like
``:predict``; a picture its decoder refuses fails the request with 422 ``image_invalid`` (or 413
``image_too_large``) naming its index.
"""

from __future__ import annotations

from typing import Any

from limelight.errors import ValidationFailed
from limelight.imaging.decode import ImageLimits
from limelight.verbs import Served, VerbHandler, VerbRegistry
from limelight.vision.payload import image_bytes
from limelight.vision.runtime import ImageItem

RUNTIMES = frozenset({"image-classifier"})
MAX_IMAGES = 64
_FIELDS = ("images", "image", "top_k")


def _invalid(field: str, message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def _images(body: dict[str, Any]) -> list[Any]:
    if ("images" in body) == ("image" in body):
        raise _invalid("images", "send either images (a list) or image (one picture)")
    if "image" in body:
        return [body["image"]]
    images = body["images"]
    if isinstance(images, bytes | str):  # one file part named images
        return [images]
    if not isinstance(images, list) or not images:
        raise _invalid("images", "images must be a non-empty list of base64 pictures")
    if len(images) > MAX_IMAGES:
        raise _invalid("images", f"at most {MAX_IMAGES} images per request, got {len(images)}",
                       max=MAX_IMAGES, got=len(images))
    return images


def _top_k(body: dict[str, Any]) -> int | None:
    top_k = body.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise _invalid("top_k", "top_k must be a positive integer")
    return top_k


def _parse(body: dict[str, Any]) -> list[Any]:
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    top_k = _top_k(body)
    field = "image" if "image" in body else "images"
    # the version's own (possibly smaller) limit is checked again when the runtime validates the item
    max_bytes = ImageLimits().max_bytes
    items = []
    for index, value in enumerate(_images(body)):
        name = field if field == "image" else f"images[{index}]"
        try:
            items.append(ImageItem(image_bytes(value, name, max_bytes), top_k))
        except ValidationFailed as exc:
            exc.details = {**exc.details, "index": index}
            raise
    return items


def _respond(outputs: list[Any], body: dict[str, Any], served: Served) -> dict[str, Any]:
    predictions = [{"label": o["label"], "score": o["score"], "labels": o["labels"]} for o in outputs]
    return {"predictions": predictions, "model": served.model_ref, "version": served.version}


def register_verbs(registry: VerbRegistry) -> None:
    registry.register(VerbHandler(verb="classify", runtimes=RUNTIMES, parse=_parse, respond=_respond))
