"""The Batcher without HTTP, on a fake event-loop clock (tests/support/loop_time.py): waits and
deadlines are asserted exactly in loop time, and a model thread is held or released with events."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from limelight.errors import (
    DeadlineExceeded,
    LimelightError,
    NotReady,
    Overloaded,
    PayloadTooLarge,
    ValidationFailed,
)
from limelight.serving.batching import Batcher
from tests.support.loop_time import loop_now, run_in_loop_time


class Model:
    """Doubles numbers; records every batch it saw; can be held mid-batch with ``gate``."""

    def __init__(self, gated: bool = False) -> None:
        self.batches: list[list[Any]] = []
        self.gate = threading.Event()
        self.started = threading.Event()
        if not gated:
            self.gate.set()
        self.threads: set[int] = set()

    def __call__(self, items: list[Any]) -> list[Any]:
        self.threads.add(threading.get_ident())
        self.batches.append(list(items))
        self.started.set()
        assert self.gate.wait(5)
        if "boom" in items:
            raise ValueError("boom")
        if "invalid" in items:
            raise ValidationFailed("bad item", details={"field": "x"})
        return [x * 2 for x in items]

    @property
    def seen(self) -> list[Any]:
        return [x for b in self.batches for x in b]


class Observer:
    def __init__(self) -> None:
        self.batches: list[tuple[int, int]] = []
        self.shed: list[str] = []

    def on_batch(self, size: int, queue_depth: int, compute_s: float) -> None:
        self.batches.append((size, queue_depth))

    def on_shed(self, reason: str) -> None:
        self.shed.append(reason)


def make(model: Model, **kw: Any) -> Batcher:
    opts: dict[str, Any] = {"max_batch_size": 8, "max_wait_ms": 0, "max_queue": 100}
    return Batcher(model, **(opts | kw))


async def wait_started(model: Model) -> None:
    """Polls in loop time, in steps of 0.1 s that are instant while no model thread runs (a wait in
    a thread would make the loop's timers keep pace with the wall clock)."""
    deadline = loop_now() + 5
    while not model.started.is_set():
        assert loop_now() < deadline, "the model never started a batch"
        await asyncio.sleep(0.1)


def test_batches_form_under_concurrency() -> None:
    async def main() -> None:
        model = Model()
        b = make(model, max_batch_size=16)
        out = await asyncio.gather(*(b.submit(i) for i in range(50)))
        assert out == [2 * i for i in range(50)]
        sizes = [len(x) for x in model.batches]
        assert max(sizes) == 16 and len(sizes) <= 5 and sum(sizes) == 50
        assert b.stats().mean_batch_size > 8
        assert threading.get_ident() not in model.threads  # ran off the event loop
        await b.close()

    run_in_loop_time(main)


def test_greedy_takes_the_queue_as_soon_as_the_model_is_free() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model, max_batch_size=64, max_wait_ms=1000)
        first = asyncio.ensure_future(b.submit(0))
        await wait_started(model)  # model busy with [0] (after its 1 s idle wait)
        rest = [asyncio.ensure_future(b.submit(i)) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        started = loop_now()
        model.gate.set()
        assert await asyncio.gather(first, *rest) == [0, 2, 4, 6, 8, 10]
        assert loop_now() - started == 0  # no second 1 s wait: the queued batch ran at once
        assert [len(x) for x in model.batches] == [1, 5]
        await b.close()

    run_in_loop_time(main)


def test_idle_model_waits_for_company_but_not_past_a_full_batch() -> None:
    async def main() -> None:
        model = Model()
        b = make(model, max_batch_size=4, max_wait_ms=600)
        first = asyncio.ensure_future(b.submit(1))
        await asyncio.sleep(0.03)
        assert model.batches == []  # still waiting for company
        assert await asyncio.gather(first, b.submit(2)) == [2, 4]
        assert model.batches == [[1, 2]]
        started = loop_now()
        assert await asyncio.gather(*(b.submit(i) for i in range(4))) == [0, 2, 4, 6]
        assert loop_now() - started == 0  # a full batch does not wait the 600 ms
        await b.close()

    run_in_loop_time(main)


def test_no_wait_answers_a_lone_request_at_once() -> None:
    async def main() -> None:
        b = make(Model(), max_wait_ms=0)
        started = loop_now()
        assert await b.submit(21) == 42
        assert loop_now() - started == 0
        await b.close()

    run_in_loop_time(main)


def test_an_error_fails_every_request_of_its_batch_and_only_that_batch() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model)
        first = asyncio.ensure_future(b.submit(1))
        await wait_started(model)
        doomed = [asyncio.ensure_future(b.submit(x)) for x in (2, "boom", 3)]
        await asyncio.sleep(0.01)
        model.gate.set()
        assert await first == 2
        results = await asyncio.gather(*doomed, return_exceptions=True)
        assert all(isinstance(r, LimelightError) and r.details == {"error": "ValueError"} for r in results)
        assert isinstance(results[0].__cause__, ValueError)
        assert await b.submit(5) == 10  # still serving
        with pytest.raises(ValidationFailed):  # limelight errors pass through unchanged
            await b.submit("invalid")
        await b.close()

    run_in_loop_time(main)


def test_output_length_mismatch_is_an_error() -> None:
    async def main() -> None:
        b = Batcher(lambda items: items[:-1], max_batch_size=8, max_wait_ms=0, max_queue=10)
        with pytest.raises(LimelightError) as info:
            await b.submit_many([1, 2, 3])
        assert info.value.details == {"inputs": 3, "outputs": 2}
        b2 = Batcher(lambda items: None, max_batch_size=8, max_wait_ms=0, max_queue=10)  # type: ignore[arg-type,return-value]
        with pytest.raises(LimelightError):
            await b2.submit(1)
        await b.close()
        await b2.close()

    run_in_loop_time(main)


def test_full_queue_is_refused_at_once() -> None:
    async def main() -> None:
        model = Model(gated=True)
        obs = Observer()
        b = make(model, max_queue=3, observer=obs)
        running = asyncio.ensure_future(b.submit(0))
        await wait_started(model)
        queued = [asyncio.ensure_future(b.submit(i)) for i in (1, 2, 3)]
        await asyncio.sleep(0)
        started = loop_now()
        with pytest.raises(Overloaded) as info:
            await b.submit(4)
        assert loop_now() - started == 0
        assert info.value.retry_after_s > 0 and info.value.details["queue_depth"] == 3
        with pytest.raises(Overloaded):
            await b.submit_many([5, 6])
        assert obs.shed == ["queue_full", "queue_full"]
        model.gate.set()
        assert await asyncio.gather(running, *queued) == [0, 2, 4, 6]
        assert 4 not in model.seen
        await b.close()

    run_in_loop_time(main)


def test_timed_out_request_is_dropped_not_computed() -> None:
    async def main() -> None:
        model = Model(gated=True)
        obs = Observer()
        b = make(model, observer=obs)
        running = asyncio.ensure_future(b.submit(1))
        await wait_started(model)
        started = loop_now()
        with pytest.raises(DeadlineExceeded):
            await b.submit(7, timeout_s=0.05)
        assert loop_now() - started == pytest.approx(0.05)
        with pytest.raises(DeadlineExceeded):
            await b.submit_many([8, 9], timeout_s=0.02)
        model.gate.set()
        assert await running == 2
        assert await b.submit(3) == 6
        assert model.seen == [1, 3]  # 7, 8 and 9 were never computed
        assert obs.shed.count("deadline") == 3
        await b.close()

    run_in_loop_time(main)


def test_cancelled_caller_is_dropped_not_computed() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model)
        running = asyncio.ensure_future(b.submit(1))
        await wait_started(model)
        gone = asyncio.ensure_future(b.submit(5))
        await asyncio.sleep(0)
        gone.cancel()
        model.gate.set()
        assert await running == 2
        await b.drain()
        assert model.seen == [1]
        await b.close()

    run_in_loop_time(main)


def test_close_drains_the_queue_then_refuses() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model, max_batch_size=2)
        pending = [asyncio.ensure_future(b.submit(i)) for i in range(5)]
        await wait_started(model)
        closing = asyncio.ensure_future(b.close())
        await asyncio.sleep(0.01)
        with pytest.raises(NotReady):
            await b.submit(9)
        assert not closing.done()
        model.gate.set()
        await closing
        assert [p.result() for p in pending] == [0, 2, 4, 6, 8]

    run_in_loop_time(main)


def test_close_without_drain_fails_the_queued() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model, max_batch_size=1)
        pending = [asyncio.ensure_future(b.submit(i)) for i in range(3)]
        await wait_started(model)
        closing = asyncio.ensure_future(b.close(drain=False))
        await asyncio.sleep(0.01)
        model.gate.set()
        await closing
        results = await asyncio.gather(*pending, return_exceptions=True)
        assert results[0] == 0 and all(isinstance(r, NotReady) for r in results[1:])
        assert model.seen == [0]

    run_in_loop_time(main)


def test_drain_waits_for_queued_and_running() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model, max_batch_size=2)
        pending = [asyncio.ensure_future(b.submit(i)) for i in range(6)]
        await wait_started(model)
        draining = asyncio.ensure_future(b.drain())
        await asyncio.sleep(0.01)
        assert not draining.done() and b.busy  # the first batch is still held
        model.gate.set()
        await draining
        assert all(p.done() for p in pending) and not b.busy
        assert await b.submit(1) == 2  # drain does not close
        await b.close()

    run_in_loop_time(main)


def test_submit_many_keeps_order_and_bounds_size() -> None:
    async def main() -> None:
        model = Model()
        b = make(model, max_batch_size=3, max_queue=10)
        assert await b.submit_many(list(range(7))) == [2 * i for i in range(7)]
        assert [len(x) for x in model.batches] == [3, 3, 1]
        with pytest.raises(PayloadTooLarge):
            await b.submit_many(list(range(11)))
        await b.close()

    run_in_loop_time(main)


def test_inline_runs_on_the_loop_without_a_thread() -> None:
    async def main() -> None:
        model = Model()
        obs = Observer()
        b = make(model, max_batch_size=1, inline=True, observer=obs)
        assert await b.submit(4) == 8
        assert await b.submit_many([1, 2]) == [2, 4]
        assert model.threads == {threading.get_ident()}
        assert obs.batches == [(1, 0), (1, 0), (1, 0)]
        with pytest.raises(LimelightError) as info:
            await b.submit("boom")
        assert info.value.details == {"error": "ValueError"}
        await b.close()
        with pytest.raises(NotReady):
            await b.submit(1)

    run_in_loop_time(main)


def test_observer_sees_batch_sizes_and_queue_depth() -> None:
    async def main() -> None:
        model = Model(gated=True)
        obs = Observer()
        b = make(model, max_batch_size=2, observer=obs)
        first = asyncio.ensure_future(b.submit(0))
        await wait_started(model)
        rest = [asyncio.ensure_future(b.submit(i)) for i in range(1, 4)]
        await asyncio.sleep(0)
        assert b.queue_depth == 3 and b.stats().running == 1
        model.gate.set()
        await asyncio.gather(first, *rest)
        assert obs.batches == [(1, 3), (2, 1), (1, 0)]
        await b.close()

    run_in_loop_time(main)


def test_inline_when_idle_batches_in_a_thread_under_load() -> None:
    async def main() -> None:
        model = Model()
        b = make(model, inline_when_idle=True)
        assert await b.submit(1) == 2
        assert model.threads == {threading.get_ident()}  # idle: computed on the loop
        model.gate.clear()
        model.started.clear()
        busy = asyncio.ensure_future(b.submit_many([2, 3]))  # goes to the worker thread
        await wait_started(model)
        queued = [asyncio.ensure_future(b.submit(i)) for i in (4, 5, 6)]
        await asyncio.sleep(0.01)
        model.gate.set()
        assert await busy == [4, 6] and await asyncio.gather(*queued) == [8, 10, 12]
        assert len(model.threads) == 2 and model.batches[-1] == [4, 5, 6]
        await b.close()

    run_in_loop_time(main)


def test_a_cancelled_worker_still_answers_its_batch() -> None:
    async def main() -> None:
        model = Model(gated=True)
        b = make(model)
        pending = [asyncio.ensure_future(b.submit(i)) for i in range(3)]
        await wait_started(model)
        assert b._worker is not None
        b._worker.cancel()
        results = await asyncio.gather(*pending, return_exceptions=True)
        assert all(isinstance(r, NotReady) for r in results)
        model.gate.set()

    run_in_loop_time(main)
