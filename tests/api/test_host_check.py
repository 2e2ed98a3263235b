"""The Host check's rules, in process (the live-server tests in test_transport.py cover the wiring)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from limelight.server.security import TrustedHostMiddleware, host_name


@pytest.mark.parametrize(("raw", "name"), [
    (b"Example.COM:8443", b"example.com"), (b"localhost", b"localhost"), (b"[::1]:8000", b"::1"),
    (b"[::1]", b"::1"), (b"::1", b"::1"), (b" 127.0.0.1 ", b"127.0.0.1"),
])
def test_host_name_drops_the_port_and_case(raw: bytes, name: bytes) -> None:
    assert host_name(raw) == name


def _verdicts(allowed: list[str], hosts: list[bytes | None]) -> tuple[list[int], TrustedHostMiddleware]:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})

    middleware = TrustedHostMiddleware(app, allowed_hosts=allowed)
    statuses: list[int] = []

    async def send(message):  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run() -> None:
        for host in hosts:
            headers = [] if host is None else [(b"host", host)]
            await middleware({"type": "http", "headers": headers}, None, send)  # type: ignore[arg-type]

    # In a thread of its own: a browser test earlier in the session may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=60)
    return statuses, middleware


def test_exact_names_and_subdomain_patterns() -> None:
    statuses, _ = _verdicts(["api.example.com", "*.example.org", "::1"], [
        b"api.example.com", b"API.example.com:443", b"a.example.org", b"x.y.example.org", b"[::1]:1",
        b"example.org", b"api.example.com.evil", b"evilexample.org", b"other.com", None])
    assert statuses == [200, 200, 200, 200, 200, 400, 400, 400, 400, 400]


def test_remembered_verdicts_are_bounded_and_never_change_the_answer() -> None:
    hosts = [f"h{i}.evil".encode() for i in range(1000)] + [b"localhost:1", b"h5.evil"]
    statuses, middleware = _verdicts(["localhost"], hosts)
    assert statuses == [400] * 1000 + [200, 400]
    assert len(middleware.verdicts) <= 256
