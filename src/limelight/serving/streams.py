"""Running a streaming verb (``VerbHandler.stream``, see ``verb_registry``) on a resolved version.

``open_stream`` holds the version's runtime (``host.acquire``) for the stream's whole life and
waits for the first event before returning, so input errors (a prompt over the context, a full
queue) surface as exceptions the protocol renders as a normal error reply, never as a 200 stream
that fails. The returned iterator must be closed (``aclose``) by its consumer, which the streamed
HTTP reply does; closing it closes the verb's stream (stopping the work) and releases the runtime.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from limelight.errors import LimelightError
from limelight.verbs import REQUEST_TOKENS, VerbHandler, fold_events

if TYPE_CHECKING:
    from limelight.serving.engine import ServingEngine, Target

__all__ = ["collect", "open_stream"]

Event = dict[str, Any]


async def open_stream(engine: ServingEngine, target: Target, handler: VerbHandler,
                      item: Any) -> AsyncGenerator[Event, None]:
    """The verb's events, the first one already produced (see the module docstring)."""
    events = _held(engine, target, handler, item)
    try:
        first = await anext(events)
    except StopAsyncIteration:
        raise LimelightError(f"{target.served.key} ended its stream without an event") from None
    except BaseException:
        await events.aclose()
        raise
    return _replayed(first, events)


async def collect(engine: ServingEngine, target: Target, handler: VerbHandler, item: Any) -> Event:
    """The whole stream folded into one result (``verb_registry.fold_events``)."""
    async with aclosing(await open_stream(engine, target, handler, item)) as events:
        return fold_events([event async for event in events])


async def _held(engine: ServingEngine, target: Target, handler: VerbHandler,
                item: Any) -> AsyncGenerator[Event, None]:
    if handler.stream is None:
        raise LimelightError(f"verb {handler.verb!r} does not stream")
    # taken on the first step, in the endpoint's context: later steps run in whoever sends the stream
    tokens = REQUEST_TOKENS.get()
    runtime, release = await engine.host.acquire(target.served.key, timeout_s=target.timeout_s)
    try:
        async with aclosing(handler.stream(runtime, item)) as events:  # type: ignore[type-var]
            async for event in events:
                if tokens is not None and event.get("event") == "end":
                    tokens.add(event)  # the metered tokens, streamed or folded
                yield event
    finally:
        release()


async def _replayed(first: Event, events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    # Closing this before its first step skips its body; ``events`` is then closed when it is dropped
    # (asyncio's async-generator finalizer calls ``aclose``), which CPython does as soon as the reply
    # holding it goes away.
    async with aclosing(events):
        yield first
        async for event in events:
            yield event
