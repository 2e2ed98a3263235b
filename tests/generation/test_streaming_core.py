"""The serving core's streamed replies without HTTP: ASGI ``send``/``receive`` as plain coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson

from limelight.errors import Overloaded
from limelight.serving.protocols.streaming import recorded_stream, send_stream, sse_data
from limelight.verbs import fold_events


class Producer:
    """Chunks from an async generator that records how far it got and whether it was closed."""

    def __init__(self, count: int | None, delay_s: float = 0.0, fail_at: int | None = None) -> None:
        self.count, self.delay_s, self.fail_at = count, delay_s, fail_at
        self.produced = 0
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while self.count is None or self.produced < self.count:
                if self.fail_at is not None and self.produced == self.fail_at:
                    raise Overloaded("the queue is full", retry_after_s=2)
                await asyncio.sleep(self.delay_s)
                self.produced += 1
                yield sse_data({"n": self.produced})
        finally:
            self.closed = True


class Client:
    """What a server sees of one HTTP client: what it was sent, and when it disconnects."""

    def __init__(self, leave_after_chunks: int | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.leave_after = leave_after_chunks
        self.left = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if self.leave_after is not None and len(self.body_chunks()) >= self.leave_after:
            self.left.set()

    async def receive(self) -> dict[str, Any]:
        await self.left.wait()
        return {"type": "http.disconnect"}

    def body_chunks(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body" and m["body"]]

    def ended(self) -> bool:
        return bool(self.messages) and self.messages[-1] == {"type": "http.response.body", "body": b"",
                                                            "more_body": False}


def test_every_chunk_is_sent_then_the_body_ends_and_the_producer_is_closed() -> None:
    producer, client = Producer(5), Client()
    completed = asyncio.run(send_stream(client.send, client.receive, 200, [(b"x-a", b"1")], producer.chunks()))
    assert completed and producer.closed and client.ended()
    assert client.messages[0] == {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]}
    assert [orjson.loads(c.removeprefix(b"data: ")) for c in client.body_chunks()] == [{"n": i} for i in range(1, 6)]


def test_a_disconnect_closes_the_producer_at_once() -> None:
    producer, client = Producer(None, delay_s=0.01), Client(leave_after_chunks=3)

    async def run() -> tuple[bool, int]:
        completed = await send_stream(client.send, client.receive, 200, [], producer.chunks())
        produced_then = producer.produced
        await asyncio.sleep(0.1)  # an unclosed producer would keep going meanwhile
        return completed, producer.produced - produced_then

    completed, produced_after = asyncio.run(run())
    assert not completed and producer.closed and produced_after == 0
    assert 3 <= producer.produced <= 4 and not client.ended()


def test_an_error_after_the_first_byte_is_a_last_error_event_and_recorded() -> None:
    producer, client, ends = Producer(10, fail_at=2), Client(), []
    chunks = recorded_stream(producer.chunks(), "req-1", lambda exc: exc.to_body("req-1"), ends.append)
    assert asyncio.run(send_stream(client.send, client.receive, 200, [], chunks))
    sent = client.body_chunks()
    assert len(sent) == 3 and client.ended() and producer.closed
    last = orjson.loads(sent[-1].removeprefix(b"data: "))
    assert last["error"]["code"] == "overloaded" and last["error"]["request_id"] == "req-1"
    assert ends == [503]


def test_recorded_statuses_for_a_full_stream_and_a_client_that_left() -> None:
    ends: list[int] = []

    async def run() -> None:
        full = recorded_stream(Producer(2).chunks(), "a", lambda e: e.to_body(), ends.append)
        assert len([c async for c in full]) == 2
        left = Producer(None)
        cut = recorded_stream(left.chunks(), "b", lambda e: e.to_body(), ends.append)
        await anext(cut)
        await cut.aclose()
        assert left.closed

    asyncio.run(run())
    assert ends == [200, 499]


def test_an_unexpected_exception_never_reaches_the_client_as_a_traceback() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"data: {}\n\n"
        raise RuntimeError("secret internals")

    async def run() -> list[bytes]:
        return [c async for c in recorded_stream(broken(), "r", lambda e: e.to_body("r"), lambda _s: None)]

    last = asyncio.run(run())[-1]
    assert b"secret" not in last and orjson.loads(last.removeprefix(b"data: "))["error"]["code"] == "internal"


def test_fold_events_joins_deltas_and_keeps_the_end_fields() -> None:
    events = [{"event": "start", "prompt_tokens": 7}, {"event": "delta", "text": "Hel"},
              {"event": "delta", "text": "lo"},
              {"event": "end", "finish_reason": "stop", "prompt_tokens": 7, "completion_tokens": 2,
               "citations": [{"id": 1}]}]
    assert fold_events(events) == {"text": "Hello", "finish_reason": "stop", "prompt_tokens": 7,
                                   "completion_tokens": 2, "citations": [{"id": 1}]}
