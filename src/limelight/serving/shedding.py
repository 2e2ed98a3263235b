"""Load shedding before any work: an in-flight gate per API process, checked in uvicorn's HTTP
protocol as soon as a request's headers are parsed. The app builds the gate (``AppState.inflight``)
and yields it as lifespan state, which uvicorn gives every connection's protocol (``app_state``).

Why here and not in the app: for a cheap model (one row to a logistic regression) answering costs
little more than refusing does once the request has gone through the ASGI stack, so under a flood
refusals alone took the CPU that serving needed, each event-loop turn grew long, and the requests
already admitted outlived their timeout. Refused at the protocol level a request costs a few
microseconds: no middleware, no body read, no key check. The fast path keeps the count (it knows
when an inference request starts and ends) and refuses too, for servers not run by `limelight serve`.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from limelight.config import ServingSettings

INFERENCE_PREFIXES = (b"/v1/models/", b"/v2/")
_EXEMPT_PREFIXES = (b"/v2/health",)  # probes answer even when busy
_MESSAGE = "The server is at its limit of requests in flight; retry."
RETRY_AFTER_S = 1


class InflightGate:
    """How many inference requests this process is working on, against ``serving.max_inflight``."""

    def __init__(self, limit: int = ServingSettings.model_fields["max_inflight"].default) -> None:
        self.limit = limit
        self.count = 0
        self.on_refused: Any = None  # set by the serving engine: counts refusals in /metrics

    def full(self) -> bool:
        return self.count >= self.limit

    def refused(self) -> None:
        if self.on_refused is not None:
            self.on_refused()


INFLIGHT_GATE_KEY = "limelight.inflight_gate"  # the gate's key in the app's lifespan state


def sheds(raw_url: bytes) -> bool:
    return raw_url.startswith(INFERENCE_PREFIXES) and not raw_url.startswith(_EXEMPT_PREFIXES)


def refusal_body(request_id: str, kserve: bool) -> bytes:
    error = {"code": "overloaded", "message": _MESSAGE, "details": {}, "request_id": request_id}
    return orjson.dumps({**error, "error": _MESSAGE} if kserve else {"error": error})


class _Refused:
    """Stands in for uvicorn's request cycle once the refusal is written: a finished response, so
    the protocol drops the rest of the body and carries on with the connection's next request."""

    response_complete = True
    disconnected = False


class SheddingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 503 itself to inference requests while the gate is
    full: no request cycle, no task, no ASGI app. (uvicorn takes a protocol class, or its import
    path, for ``http``; its own ``limit_concurrency`` counts connections and every route instead.)"""

    def on_headers_complete(self) -> None:
        pipelined = self.cycle is not None and not self.cycle.response_complete
        gate: InflightGate | None = self.app_state.get(INFLIGHT_GATE_KEY)
        if pipelined or gate is None or not gate.full() or not sheds(self.url):
            super().on_headers_complete()
            return
        gate.refused()
        request_id = uuid.uuid4().hex
        body = refusal_body(request_id, self.url.startswith(b"/v2/"))
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(b"".join((
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(), b"\r\nretry-after: ", str(RETRY_AFTER_S).encode(),
            b"\r\nx-request-id: ", request_id.encode(), b"" if keep_alive else b"\r\nconnection: close",
            b"\r\n\r\n", body)))
        self.cycle = _Refused()  # type: ignore[assignment]  # all uvicorn reads of it afterwards
        if keep_alive:
            self.on_response_complete()
        else:
            self.transport.close()


PROTOCOL = f"{__name__}:{SheddingHttpToolsProtocol.__name__}"  # what `uvicorn.run(http=...)` takes
