"""Base classes of the per-domain resources (``client.jobs``, ``client.models``, …)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol, TypeVar

from httpx_sse import ServerSentEvent

from limelight.client._base import Call
from limelight.schemas.common import Page

T = TypeVar("T")
PageCall = Callable[[str | None], Call[Page[T]]]


class CallRunner(Protocol):
    """What a resource needs of its client (``Client``), so resources need not import it."""

    _csrf_token: str | None

    def _run(self, call: Call[Any]) -> Any: ...

    def _stream_events(self, call: Call[Any]) -> Iterator[ServerSentEvent]: ...

    def _stream_bytes(self, call: Call[Any]) -> Iterator[bytes]: ...

    def _forget_session(self) -> None: ...


class AsyncCallRunner(Protocol):
    """What a resource needs of its client (``AsyncClient``), so resources need not import it."""

    _csrf_token: str | None

    async def _run(self, call: Call[Any]) -> Any: ...

    def _stream_events(self, call: Call[Any]) -> AsyncIterator[ServerSentEvent]: ...

    def _stream_bytes(self, call: Call[Any]) -> AsyncIterator[bytes]: ...

    def _forget_session(self) -> None: ...


class SyncResource:
    def __init__(self, client: CallRunner) -> None:
        self._client = client

    def _run(self, call: Call[T]) -> T:
        result: T = self._client._run(call)
        return result

    def _iterate(self, page_call: PageCall[T]) -> Iterator[T]:
        """Every item of every page, following ``next_cursor`` until the server stops sending one."""
        cursor: str | None = None
        while True:
            page = self._run(page_call(cursor))
            yield from page.items
            # a cursor that does not move would loop forever; treat it as the end
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor


class AsyncResource:
    def __init__(self, client: AsyncCallRunner) -> None:
        self._client = client

    async def _run(self, call: Call[T]) -> T:
        result: T = await self._client._run(call)
        return result

    async def _iterate(self, page_call: PageCall[T]) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            page = await self._run(page_call(cursor))
            for item in page.items:
                yield item
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor
