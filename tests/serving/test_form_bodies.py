"""A multipart/form-data body read into the object a JSON body would give a verb."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from limelight.errors import ValidationFailed
from limelight.serving.protocols.form_bodies import form_object, is_form


def _form(files: list[tuple[str, tuple[str, bytes]]], data: dict[str, str]) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://x/", files=files, data=data)
    return request.headers["content-type"], request.read()


def test_files_are_bytes_fields_json_and_repeats_lists() -> None:
    content_type, body = _form([("images", ("a.png", b"\x89PNG one")), ("images", ("b.jpg", b"\xff\xd8 two")),
                                ("image", ("c.gif", b"GIF89a"))], {"top_k": "3", "note": "plain words", "flag": "true"})
    assert is_form(content_type)
    form = asyncio.run(form_object(content_type, body))
    assert form == {"images": [b"\x89PNG one", b"\xff\xd8 two"], "image": b"GIF89a", "top_k": 3,
                    "note": "plain words", "flag": True}


def test_not_a_form() -> None:
    assert not is_form("application/json") and not is_form(None)
    assert is_form("multipart/form-data; boundary=x")


def test_a_broken_form_is_a_422() -> None:
    with pytest.raises(ValidationFailed) as caught:
        asyncio.run(form_object("multipart/form-data", b"--x\r\nnonsense"))
    assert caught.value.details == {"field": "body"}
