"""Pure ASGI middleware: request ids and the request-body guard (no BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

import re
import uuid

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limelight.errors import LimelightError, PayloadTooLarge
from limelight.server.json_bodies import (
    API_PREFIXES,
    JSON_CONTENT_TYPE,
    api_reads_as_json,
    is_json_media_type,
    parse_strict_json,
)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
STREAMED_UPLOAD_PATHS = re.compile(r"^/api/v1/orgs/[^/]+/(datasets|models/[^/]+/versions)$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", raw_id))
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` while a body streams in: FastAPI re-raises HTTP exceptions met while
    reading a body (anything else there becomes a 400), so the error handler answers 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Body over {max_bytes} bytes.")
        self.max_bytes = max_bytes

    def as_error(self) -> PayloadTooLarge:
        return _too_large(self.max_bytes)


class BodyLimitMiddleware:
    """Every request body but the streamed uploads: at most ``max_bytes``, and JSON by one rule.

    Over the limit is 413 whether the size was declared (Content-Length) or the body was chunked.
    A JSON body (declared, sent with no Content-Type, or with curl's default form type on the API:
    see ``json_bodies``) is read whole, checked to be strict JSON and handed on labelled
    ``application/json``, so every route reads it as JSON. Other bodies (the console's forms)
    stream through, counted. Upload routes stream to disk under their
    own (larger) limits, so they are exempt here.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or STREAMED_UPLOAD_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            await _send_error(scope, send, _too_large(self.max_bytes))
            return
        content_type = _header(scope, b"content-type")
        on_api = scope["path"].startswith(API_PREFIXES)
        binary_tail = _header(scope, b"inference-header-content-length") is not None  # KServe v2: JSON + bytes
        if not binary_tail and (is_json_media_type(content_type) or (on_api and api_reads_as_json(content_type))):
            await self._json(scope, receive, send, labelled=content_type is not None
                             and is_json_media_type(content_type))
        else:
            await self._counted(scope, receive, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send, *, labelled: bool) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body was complete
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_error(scope, send, _too_large(self.max_bytes))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                parse_strict_json(body)
            except LimelightError as exc:
                await _send_error(scope, send, exc)
                return
            if not labelled:
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope["headers"].append((b"content-type", JSON_CONTENT_TYPE))
        await self.app(scope, _replay(body, receive), send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:  # read outside FastAPI's body handling, before any response started
            await _send_error(scope, send, _too_large(self.max_bytes))


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then waits on the real one (disconnects)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Body over {max_bytes} bytes.", details={"max_bytes": max_bytes})


async def _send_error(scope: Scope, send: Send, error: LimelightError) -> None:
    body = orjson.dumps(error.to_body(scope.get("state", {}).get("request_id")))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers().items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
