"""One request's events on their way from the pool's dispatcher thread to a caller, sync or async.

The dispatcher thread pushes events (or one error) into a :class:`_Channel`; a caller reads them by
iterating in a worker thread or with ``async for`` on the event loop (woken through
``call_soon_threadsafe``, no thread parked per stream). A caller who stops iterating early, or whose
task is cancelled, cancels the generation: nobody is left to read it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from limelight.errors import DeadlineExceeded, LimelightError
from limelight.generation.requests import Completion, Finished, GenerationEvent, GenerationRequest, Token

__all__ = ["GenerationStream"]

class _Channel:
    """A thread-safe queue a thread can block on and a coroutine can await."""

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def put(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)
            self._ready.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)

    def get(self, timeout_s: float) -> Any:
        """The next item; ``TimeoutError`` after ``timeout_s`` without one."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not self._items:
                left = deadline - time.monotonic()
                if left <= 0 or not self._ready.wait(left) and not self._items:
                    raise TimeoutError
            return self._items.popleft()

    async def aget(self, timeout_s: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            with self._lock:
                if self._items:
                    return self._items.popleft()
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, future))
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                raise TimeoutError from None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class GenerationStream:
    """The events of one submitted request: ``Started``, ``Token``…, ``Finished`` (or an error).

    Errors (``ContextLengthExceeded``, ``DeadlineExceeded``, ``GenerationFailed``…) are raised
    while iterating. ``cancel()`` stops generation within one token; the stream then ends with
    ``Finished(finish_reason="cancelled")``.
    """

    def __init__(self, request: GenerationRequest, request_id: int, timeout_s: float,
                 on_cancel: Callable[[GenerationStream], None]) -> None:
        self.request = request
        self.id = request_id
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self._on_cancel = on_cancel
        self._channel = _Channel()
        self._state_lock = threading.Lock()
        self._closed = False
        self.cancel_requested = False

    # -- the pool's side -------------------------------------------------------------------
    def push(self, event: GenerationEvent) -> None:
        """Deliver one event (ignored once the stream is closed); ``Finished`` closes it."""
        with self._state_lock:
            if self._closed:
                return
            if isinstance(event, Finished):
                self._closed = True
        self._channel.put(event)

    def fail(self, error: LimelightError) -> None:
        """End the stream with ``error`` (ignored once it is closed)."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        self._channel.put(error)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the caller's side -----------------------------------------------------------------
    def cancel(self) -> None:
        """Stop generating (within one token); idempotent, and harmless after the end."""
        with self._state_lock:
            if self.cancel_requested or self._closed:
                return
            self.cancel_requested = True
        self._on_cancel(self)

    def __iter__(self) -> Iterator[GenerationEvent]:
        finished = False
        try:
            while True:
                try:
                    item = self._channel.get(self._wait_s())
                except TimeoutError:
                    raise self._timed_out() from None
                event = self._unwrap(item)
                finished = isinstance(event, Finished)
                yield event
                if finished:
                    return
        finally:
            if not finished:
                self.cancel()

    async def __aiter__(self) -> AsyncIterator[GenerationEvent]:
        finished = False
        try:
            while True:
                try:
                    item = await self._channel.aget(self._wait_s())
                except TimeoutError:
                    raise self._timed_out() from None
                event = self._unwrap(item)
                finished = isinstance(event, Finished)
                yield event
                if finished:
                    return
        finally:
            if not finished:
                self.cancel()

    def collect(self) -> Completion:
        """Block until the end; the whole text and the counts."""
        pieces: list[str] = []
        for event in self:
            if isinstance(event, Token):
                pieces.append(event.text)
            elif isinstance(event, Finished):
                return Completion("".join(pieces), event.finish_reason, event.prompt_tokens,
                                  event.completion_tokens)
        raise AssertionError("a stream always ends with Finished or an error")  # pragma: no cover

    def _wait_s(self) -> float:
        # The dispatcher enforces the deadline of a running request; this one covers waiting in the
        # queue, with a little slack so the dispatcher's own 504 (which stops the child) comes first.
        return max(0.0, self.deadline - time.monotonic()) + 0.5

    def _timed_out(self) -> DeadlineExceeded:
        self.cancel()
        return DeadlineExceeded(f"The generation did not finish within {self.timeout_s:g} s.",
                                details={"timeout_s": self.timeout_s})

    @staticmethod
    def _unwrap(item: Any) -> GenerationEvent:
        if isinstance(item, LimelightError):
            raise item
        event: GenerationEvent = item
        return event
