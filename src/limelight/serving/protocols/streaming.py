"""Streamed replies (Server-Sent Events) for both ways into the inference API.

A handler answers with ``HttpReply(stream=<async iterator of byte chunks>)`` instead of a body.
``send_stream`` writes it to an ASGI ``send`` chunk by chunk (no Content-Length, so HTTP/1.1
chunked encoding) while watching ``receive()`` for ``http.disconnect``: when the client goes away
the iterator is cancelled and closed (``aclose``), so whatever produces the chunks (a generation
stream) stops at once instead of generating for nobody. ``StreamReply`` is the same thing as a
Starlette ``Response`` for the FastAPI routes, so both ways behave identically.

The SSE framing is the few lines below rather than ``sse-starlette``: the fast path is raw ASGI
(no Starlette ``Response`` to hand the library), and the framing needed here is only ``data:``
lines; one implementation then serves both paths, disconnect handling included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from limelight.errors import LimelightError

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

__all__ = ["SSE_CONTENT_TYPE", "SSE_DONE", "STREAM_HEADERS", "StreamReply", "recorded_stream", "send_stream", "sse_data",
           "until_disconnect"]

log = logging.getLogger(__name__)

SSE_CONTENT_TYPE = b"text/event-stream; charset=utf-8"
SSE_DONE = b"data: [DONE]\n\n"  # OpenAI's end-of-stream sentinel
# Proxies (nginx) buffer responses unless told otherwise; a token stream must not wait in a buffer.
STREAM_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


def sse_data(payload: Any) -> bytes:
    """One SSE event carrying ``payload`` as JSON (JSON never contains a raw newline)."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


async def recorded_stream(chunks: AsyncIterator[bytes], request_id: str,
                          error_body: Callable[[LimelightError], dict[str, Any]],
                          on_end: Callable[[int], None]) -> AsyncIterator[bytes]:
    """``chunks``; an error raised after the first byte as a last ``data: {error body}`` event; at
    the end ``on_end(status)``: 200, the error's status, or 499 if the client went away first."""
    status = 499  # unless the stream runs to its end or fails: the client left (nginx's "client closed")
    try:
        async for chunk in chunks:
            yield chunk
        status = 200
    except LimelightError as exc:
        status = exc.status
        log.warning("stream %s failed: %s %s", request_id, exc.code, exc.message)
        yield sse_data(error_body(exc))
    except Exception:
        status = 500
        log.exception("unhandled error in the stream of request %s", request_id)
        yield sse_data(error_body(LimelightError("Internal error; the request id identifies it in the logs.")))
    finally:
        await _close(chunks)
        on_end(status)


async def send_stream(send: Send, receive: Receive, status: int, headers: list[tuple[bytes, bytes]],
                      chunks: AsyncIterator[bytes]) -> bool:
    """Send the response head then every chunk; False if the client disconnected first.

    The chunks are always closed (``aclose``), whether they ran out, failed or the client left.
    """
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
    except BaseException:
        await _close(chunks)
        raise
    pump = asyncio.ensure_future(_pump(send, chunks))
    watcher = asyncio.ensure_future(until_disconnect(receive))
    try:
        await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not pump.done():
            pump.cancel()  # the client left (or we are cancelled): stop producing now
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await pump
        await _close(chunks)
    return not pump.cancelled()


async def _pump(send: Send, chunks: AsyncIterator[bytes]) -> None:
    try:
        async for chunk in chunks:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await _close(chunks)


async def until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _close(chunks: AsyncIterator[bytes]) -> None:
    close: Callable[[], Any] | None = getattr(chunks, "aclose", None)
    if close is not None:
        await close()


class StreamReply(Response):
    """A streamed ``HttpReply`` as a Starlette response (the FastAPI routes' way out)."""

    def __init__(self, chunks: AsyncIterator[bytes], status_code: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.chunks = chunks
        self.status_code = status_code
        self.raw_headers = headers
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_stream(send, receive, self.status_code, self.raw_headers, self.chunks)
