"""The inference HTTP endpoints as plain functions of (engine, principal, call) -> reply, and the two
ways requests reach them.

* ``ServingFastPath``, a pure ASGI middleware outside FastAPI: requests to an inference path that
  carry an ``Authorization`` header are answered here without FastAPI's router, dependency
  injection, pydantic or a threadpool hop (measured: FastAPI's per-request overhead alone is more
  than the whole W1 budget). Everything else passes through untouched.
* FastAPI routes (``v1.router``, ``v2_rest.router``) for the same paths: they document the API in
  OpenAPI and serve callers without a key (the UI's session cookie with its CSRF check), then call
  the same endpoint function, so both ways behave identically.

Both go through ``execute``: authentication, error rendering (the standard error body with the
request id, never a traceback), metrics and the sampled JSON request log.

Streamed replies (``HttpReply.stream``, Server-Sent Events; see ``streaming.py``): a handler raises
its errors before it returns the reply, so they are normal error replies (a prompt over the context
is a 400, not a 200 stream). An error after the first byte becomes a last ``data: {"error": {...}}``
event (the endpoint's error body) and the stream ends. Metrics and the request log record a stream
when it ends: its status is 200, the error's status, or 499 when the client went away. An endpoint
marked ``cancellable`` is also cancelled when its client disconnects before the reply is ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from limelight.errors import LimelightError, PayloadTooLarge, ValidationFailed
from limelight.server.json_bodies import api_reads_as_json, wrong_media_type
from limelight.serving import shedding
from limelight.serving.metrics import NO_MODEL
from limelight.serving.protocols.streaming import (
    SSE_CONTENT_TYPE,
    STREAM_HEADERS,
    StreamReply,
    recorded_stream,
    send_stream,
    until_disconnect,
)
from limelight.verbs import REQUEST_TOKENS, TokenCount

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

    from limelight.auth.principal import Principal
    from limelight.serving.engine import ServingEngine, Target
    from limelight.serving.ports import Arm

__all__ = [
    "Endpoint",
    "HttpCall",
    "HttpReply",
    "ServingFastPath",
    "error_reply",
    "execute",
    "json_reply",
    "reply_response",
    "run_from_fastapi",
    "stream_reply",
]

request_log = logging.getLogger("limelight.requests")
log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_WANTED_HEADERS = frozenset(
    {
        b"authorization",
        b"x-request-id",
        b"content-length",
        b"limelight-routing-key",
        b"inference-header-content-length",
        b"content-type",
    }
)
_JSON = b"application/json"
_FAST_PREFIXES = ("/v1/models", "/v1/embeddings", "/v1/chat", "/v1/completions", "/v2")  # everything else goes straight to FastAPI
_NOSNIFF = (b"x-content-type-options", b"nosniff")


@dataclass(slots=True)
class HttpCall:
    """One inference request, whichever way it came in; handlers fill ``model``/``version``/``route``."""

    method: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    request_id: str
    query_string: bytes = b""
    model: str = NO_MODEL
    version: str = ""
    route: str = ""
    arm: Arm | None = None  # the experiment variant that served it, if one did
    caller: str = ""  # the calling org's id, once authenticated (when usage is metered)
    tokens: TokenCount | None = None  # what a generation read and wrote (when usage is metered)

    def served_by(self, target: Target) -> None:
        """Label the call with the version (and experiment variant) that answers it."""
        served = target.served
        self.model, self.version, self.arm = served.model_ref, str(served.version), target.arm

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string.decode("latin-1"))) if self.query_string else {}

    def json_object(self, *, check_media_type: bool = True) -> dict[str, Any]:
        """The body as a JSON object; a Content-Type other than JSON's (or curl's default) is 415."""
        if check_media_type and not api_reads_as_json(self.headers.get("content-type")):
            raise wrong_media_type(self.headers.get("content-type"))
        try:
            body = orjson.loads(self.body) if self.body else None
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed(f"The body is not valid JSON: {exc}", details={"field": "body"}) from None
        if not isinstance(body, dict):
            raise ValidationFailed("The body must be a JSON object.", details={"field": "body"})
        return body


@dataclass(slots=True)
class HttpReply:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    content_type: bytes = _JSON
    stream: AsyncIterator[bytes] | None = None  # set: the body is these chunks (SSE), ``body`` unused


def stream_reply(chunks: AsyncIterator[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> HttpReply:
    """A 200 Server-Sent-Events reply; raise errors before building it (see the module docstring)."""
    return HttpReply(200, b"", [*STREAM_HEADERS, *(headers or [])], SSE_CONTENT_TYPE, chunks)


Handler = Callable[["ServingEngine", "Principal | None", HttpCall], Awaitable[HttpReply]]


@dataclass(frozen=True)
class Endpoint:
    route: str  # metrics label prefix, e.g. "v1", "v2:infer"
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    public: bool = False  # health probes: no key, no metrics
    kserve_errors: bool = False  # KServe v2 clients read {"error": "<message>"} (code etc. alongside)
    # Another error body (the OpenAI routes add "type" and "param"); None: ``error_reply``'s
    render_error: Callable[[LimelightError, str], HttpReply] | None = None
    # The handler may be cancelled at any await (a generation): a client that leaves before the reply
    # (waiting in a queue, or for a whole non-streamed answer) cancels it, on the fast path.
    cancellable: bool = False

    def error(self, exc: LimelightError, request_id: str) -> HttpReply:
        if self.render_error is not None:
            return self.render_error(exc, request_id)
        return error_reply(exc, request_id, self.kserve_errors)


def json_reply(
    payload: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
) -> HttpReply:
    return HttpReply(status, orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), headers or [])


def error_reply(exc: LimelightError, request_id: str, kserve: bool = False) -> HttpReply:
    headers = [(k.lower().encode(), v.encode()) for k, v in exc.headers().items()]
    body = exc.to_body(request_id)
    if kserve:  # the v2 protocol's error is a string; the usual fields stay, one level up
        body = {**body["error"], "error": exc.message}
    return HttpReply(exc.status, orjson.dumps(body), headers)


async def execute(
    engine: ServingEngine, endpoint: Endpoint, principal: Principal | None, call: HttpCall
) -> HttpReply:
    """Authenticate (unless the caller already is), run the endpoint, render errors, record the call."""
    started = time.perf_counter()
    call.route = endpoint.route
    counting = None
    try:
        if principal is None and not endpoint.public:
            principal = await engine.authenticate(call.headers.get("authorization"))
        if engine.meter is not None and principal is not None:  # the tokens the endpoint generates
            call.caller, call.tokens = principal.org_id, TokenCount()
            counting = REQUEST_TOKENS.set(call.tokens)
        reply = await endpoint.handler(engine, principal, call)
    except LimelightError as exc:
        if exc.status >= 500:
            log.warning("request %s failed: %s %s", call.request_id, exc.code, exc.message)
        reply = endpoint.error(exc, call.request_id)
    except Exception:
        log.exception("unhandled error on request %s", call.request_id)
        internal = LimelightError("Internal error; the request id identifies it in the logs.")
        reply = endpoint.error(internal, call.request_id)
    finally:
        if counting is not None:
            REQUEST_TOKENS.reset(counting)
    if reply.stream is not None:
        reply.stream = recorded_stream(
            reply.stream, call.request_id,
            lambda exc: orjson.loads(endpoint.error(exc, call.request_id).body),
            lambda status: None if endpoint.public else _record(engine, principal, call, status, started))
    elif not endpoint.public:
        _record(engine, principal, call, reply.status, started)
    if call.caller and engine.meter is not None:  # an org with a request quota sees what remains
        quota = engine.meter.quota_headers(call.caller, int(reply.stream is not None and call.model != NO_MODEL))
        if quota:
            reply.headers = [*reply.headers, *quota]
    return reply


async def execute_until_disconnect(engine: ServingEngine, endpoint: Endpoint, call: HttpCall,
                                   receive: Receive) -> HttpReply | None:
    """``execute``, cancelled when the client disconnects first (then None, recorded as 499)."""
    started = time.perf_counter()
    work = asyncio.ensure_future(execute(engine, endpoint, None, call))
    watcher = asyncio.ensure_future(until_disconnect(receive))
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not work.done():
            work.cancel()
    try:
        return await work
    except asyncio.CancelledError:
        if watcher.cancelled() or not watcher.done():
            raise  # we were cancelled ourselves, not the client
    _record(engine, None, call, 499, started)
    return None


def _record(engine: ServingEngine, principal: Principal | None, call: HttpCall, status: int, started: float) -> None:
    elapsed_s = time.perf_counter() - started
    engine.metrics.observe_request(call.model, call.version, call.route, status, elapsed_s)
    if call.arm is not None and engine.exposures is not None:
        engine.exposures.observe(call.arm, call.request_id, status, elapsed_s)
    tokens = call.tokens  # set with ``caller`` when usage is metered
    if tokens is not None and call.model != NO_MODEL and engine.meter is not None:  # metered to the calling org
        engine.meter.observe(call.caller, call.model, status, tokens.prompt, tokens.completion)
    rate = engine.state.settings.server.request_log_sample_rate
    if rate > 0 and random.random() < rate:  # noqa: S311 - sampling, not security
        _log_request(call, principal, status, elapsed_s)


def _log_request(call: HttpCall, principal: Principal | None, status: int, elapsed_s: float) -> None:
    request_log.info(
        orjson.dumps(
            {
                "ts": round(time.time(), 3),
                "request_id": call.request_id,
                "route": call.route,
                "model": call.model,
                "version": call.version,
                "status": status,
                "duration_ms": round(elapsed_s * 1000, 3),
                "org": principal.org_name if principal else None,
                "key": principal.key_id[:8] if principal and principal.key_id else None,
                "pid": os.getpid(),
            }
        ).decode()
    )


# ---- the ASGI fast path ------------------------------------------------------------------------


class ServingFastPath:
    """Answers keyed inference requests before FastAPI; see the module docstring.

    It counts the inference requests in flight for the shedding gate (``serving/shedding.py``) and,
    past ``serving.max_inflight``, refuses with 503 + Retry-After before the body, key or JSON is
    looked at (under `limelight serve` uvicorn's protocol has usually refused such a request already).
    """

    def __init__(self, app: ASGIApp, endpoints: list[Endpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_FAST_PREFIXES):
            await self.app(scope, receive, send)
            return
        found = self._match(scope["method"], scope["path"])
        state = getattr(scope["app"].state, "limelight", None) if "app" in scope else None
        engine = state.serving if state is not None else None
        if found is None or engine is None:
            await self.app(scope, receive, send)
            return
        endpoint, params = found
        headers = _pick_headers(scope["headers"])
        if not endpoint.public and "authorization" not in headers:
            await self.app(scope, receive, send)  # sessions and anonymous callers: FastAPI's routes
            return
        assert state is not None  # an engine was found in it
        given = headers.get("x-request-id")
        request_id = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        gate = state.inflight
        if not endpoint.public and gate.full():
            gate.refused()
            await _send(send, HttpReply(503, shedding.refusal_body(request_id, endpoint.kserve_errors),
                                        [(b"retry-after", str(shedding.RETRY_AFTER_S).encode())]), request_id)
            return
        gate.count += 1
        try:
            try:
                body = await _read_body(receive, headers, state.settings.limits.max_json_body_bytes)
            except PayloadTooLarge as exc:
                engine.metrics.rejected(NO_MODEL, "too_large")
                await _send(send, endpoint.error(exc, request_id), request_id)
                return
            call = HttpCall(scope["method"], params, headers, body, request_id, scope.get("query_string", b""))
            if endpoint.cancellable:
                reply = await execute_until_disconnect(engine, endpoint, call, receive)
            else:
                reply = await execute(engine, endpoint, None, call)
            if reply is None:
                return
            if reply.stream is not None:
                await send_stream(send, receive, reply.status, _reply_headers(reply, request_id), reply.stream)
            else:
                await _send(send, reply, request_id)
        finally:
            gate.count -= 1

    def _match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        for endpoint in self.endpoints:
            if endpoint.method == method:
                match = endpoint.pattern.match(path)
                if match is not None:
                    return endpoint, match.groupdict()
        return None


def _pick_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode(): v.decode("latin-1") for k, v in raw if k in _WANTED_HEADERS}


async def _read_body(receive: Receive, headers: Mapping[str, str], max_bytes: int) -> bytes:
    length = headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise PayloadTooLarge(f"Body over {max_bytes} bytes.", details={"max_bytes": max_bytes})
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Body over {max_bytes} bytes.", details={"max_bytes": max_bytes})
        chunks.append(chunk)
    return b"".join(chunks)


def _reply_headers(reply: HttpReply, request_id: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", reply.content_type),
        (b"x-request-id", request_id.encode()),
        _NOSNIFF,  # the one security header that matters on JSON; the rest are added for pages
        *reply.headers,
    ]


async def _send(send: Send, reply: HttpReply, request_id: str) -> None:
    headers = [(b"content-length", str(len(reply.body)).encode()), *_reply_headers(reply, request_id)]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


# ---- the FastAPI way in -------------------------------------------------------------------------


async def run_from_fastapi(
    request: Request, endpoint: Endpoint, principal: Principal | None, params: dict[str, str]
) -> Response:
    """Serve ``endpoint`` for a request FastAPI routed (and authenticated) itself."""
    engine = request.app.state.limelight.serving
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    wanted = {k: v for k, v in request.headers.items() if k.encode() in _WANTED_HEADERS}
    call = HttpCall(
        request.method,
        params,
        wanted,
        await request.body(),
        request_id,
        request.scope.get("query_string", b""),
    )
    return reply_response(await execute(engine, endpoint, principal, call))


def reply_response(reply: HttpReply) -> Response:
    from starlette.responses import Response

    if reply.stream is not None:  # the request id and security headers come from the middlewares
        return StreamReply(reply.stream, reply.status, [(b"content-type", reply.content_type), *reply.headers])
    headers = {k.decode(): v.decode() for k, v in reply.headers}
    return Response(
        reply.body, status_code=reply.status, headers=headers, media_type=reply.content_type.decode()
    )
