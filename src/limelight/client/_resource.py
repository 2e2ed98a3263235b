"""Base classes of the per-domain resources (``client.jobs``, ``client.models``, …)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from limelight.client._base import Call
from limelight.schemas.common import Page

if TYPE_CHECKING:
    from limelight.client._client import AsyncClient, Client

T = TypeVar("T")
PageCall = Callable[[str | None], Call[Page[T]]]


class SyncResource:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _run(self, call: Call[T]) -> T:
        return self._client._run(call)

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
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _run(self, call: Call[T]) -> T:
        return await self._client._run(call)

    async def _iterate(self, page_call: PageCall[T]) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            page = await self._run(page_call(cursor))
            for item in page.items:
                yield item
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor
