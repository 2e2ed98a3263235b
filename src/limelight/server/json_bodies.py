"""The one rule for JSON request bodies, on the management API and the inference API alike.

* A body sent with no ``Content-Type`` is read as JSON (as the inference API always did); a declared
  JSON type (``application/json``, ``…+json``) is JSON too.
* On the API (``/api/``, ``/v1/``, ``/v2/``), whose routes take JSON and never forms, a body labelled
  ``application/x-www-form-urlencoded`` is read as JSON as well: that is the label ``curl -d '{…}'``
  puts on a JSON body when no ``-H 'Content-Type: …'`` is given, so the README's examples run as
  written. (No cross-site form can use this: API writes need a bearer key or the CSRF header.)
* A route that takes JSON refuses any other declared type with 415 ``unsupported_media_type``.
* JSON is strict: NaN, ``Infinity`` and numbers that overflow to infinity (``1e400``) are refused
  with 422, whatever field they are in, because orjson refuses them where ``json.loads`` does not.
"""

from __future__ import annotations

from typing import Any

import orjson

from limelight.errors import UnsupportedMediaType, ValidationFailed

JSON_CONTENT_TYPE = b"application/json"
API_PREFIXES = ("/api/", "/v1/", "/v2/")
_CURL_DEFAULT_TYPE = "application/x-www-form-urlencoded"


def is_json_media_type(content_type: str | None) -> bool:
    """True for no Content-Type at all, ``application/json`` and ``application/*+json``."""
    if content_type is None or not content_type.strip():
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def api_reads_as_json(content_type: str | None) -> bool:
    """On an API route that takes JSON: no type, a JSON type, or the type ``curl -d`` adds by default."""
    if is_json_media_type(content_type):
        return True
    assert content_type is not None
    return content_type.split(";", 1)[0].strip().lower() == _CURL_DEFAULT_TYPE


def wrong_media_type(content_type: str | None) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "This route takes a JSON body: send Content-Type: application/json (or no Content-Type).",
        details={"content_type": (content_type or "")[:100], "accepted": ["application/json"]},
    )


def parse_strict_json(body: bytes) -> Any:
    """Parse a JSON body, refusing what is not strict JSON (NaN, infinities, bad syntax) with 422."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(f"The body is not valid JSON: {exc}",
                               details={"fields": [{"field": "body", "reason": str(exc)}]}) from None
