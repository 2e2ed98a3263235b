"""Browser-facing protections as pure ASGI middleware: the Host check and the security headers.

* ``TrustedHostMiddleware`` (production mode) answers 400 ``untrusted_host`` to a request whose Host
  is not in ``server.trusted_hosts``, so a DNS-rebinding page cannot talk to the server under a name
  it controls. It sits outermost, in front of the inference fast path too: one scan of the header
  list and a set lookup, no wrapping of ``send``.
* ``SecurityHeadersMiddleware`` adds the headers a response did not set itself: a locked-down
  Content-Security-Policy (the console and /docs send their own), nosniff, no framing, the
  Referrer-Policy, and HSTS on HTTPS in production. It wraps the FastAPI app only; keyed inference
  answered by the fast path sets nosniff itself and skips this per-request wrapper.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limelight.errors import UntrustedHost

__all__ = ["HSTS", "SECURITY_HEADERS", "SecurityHeadersMiddleware", "TrustedHostMiddleware", "host_name"]

# For responses that are not pages (JSON, files, redirects): nothing may run, load or frame them.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
# A year, this host only: the operator's other subdomains are not ours to pin.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = (*SECURITY_HEADERS, HSTS) if self.hsts and scope.get("scheme") == "https" else SECURITY_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in defaults if header[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TrustedHostMiddleware:
    """Exact names and ``*.suffix`` patterns, compared without the port and case-insensitively."""

    _MAX_REMEMBERED = 256  # Host values are the client's choice: remember a few verdicts, not all

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        patterns = [host.strip().lower() for host in allowed_hosts if host.strip()]
        self.exact = frozenset(host_name(host.encode()) for host in patterns if not host.startswith("*."))
        self.suffixes = tuple(host[1:].encode() for host in patterns if host.startswith("*."))
        self.verdicts: dict[bytes, bool] = {}  # raw Host value -> trusted, so most requests parse nothing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._trusted(scope["headers"]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_untrusted_host(send)

    def _trusted(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        for key, value in headers:
            if key == b"host":
                verdict = self.verdicts.get(value)
                if verdict is None:
                    name = host_name(value)
                    verdict = name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))
                    if len(self.verdicts) < self._MAX_REMEMBERED:
                        self.verdicts[value] = verdict
                return verdict
        return False  # HTTP/1.0 without a Host: nothing to check it against


def host_name(value: bytes) -> bytes:
    """``Example.COM:8443`` -> ``example.com``; ``[::1]:8000`` -> ``::1``."""
    value = value.strip().lower()
    if value.startswith(b"["):
        end = value.find(b"]")
        return value[1:end] if end > 0 else value
    if value.count(b":") == 1:  # name:port (a bare IPv6 address has several colons)
        return value.split(b":", 1)[0]
    return value


async def _send_untrusted_host(send: Send) -> None:
    error, request_id = UntrustedHost(), uuid.uuid4().hex
    body = orjson.dumps(error.to_body(request_id))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-request-id", request_id.encode()), (b"connection", b"close"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
