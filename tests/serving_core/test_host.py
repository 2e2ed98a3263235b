"""The ModelHost without HTTP, on a fake event-loop clock (tests/support/loop_time.py): loads and
batches are held and released with events, waits are bounded in loop time, never slept through."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from limelight.errors import DeadlineExceeded, ModelUnavailable, NotReady, ValidationFailed
from limelight.runtimes import load_runtime
from limelight.serving.host import BatchConfig, ModelHost, VersionState
from limelight.verbs import VersionKey
from tests.support.loop_time import loop_now, run_in_loop_time

A, B, C = (VersionKey("acme", "m", v) for v in (1, 2, 3))


class Doubler:
    """A Runtime whose outputs say which version answered; can be held mid-batch."""

    def __init__(self, key: VersionKey, memory_bytes: int = 10, gate: threading.Event | None = None) -> None:
        self.key = key
        self.memory_bytes = memory_bytes
        self.max_batch_size = 64
        self.gate = gate
        self.closed = False
        self.batches: list[int] = []

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        if self.gate is not None:
            assert self.gate.wait(5)
        self.batches.append(len(inputs))
        return [(self.key.version, x * 2) for x in inputs]

    def signature(self) -> dict[str, Any]:
        return {"inputs": [], "outputs": []}

    def validate_input(self, item: Any) -> Any:
        if not isinstance(item, int):
            raise ValidationFailed("not an int", details={"field": "x"})
        return item

    def close(self) -> None:
        self.closed = True


class Loader:
    """Loads Doublers and records each call; ``load_gate`` holds every load until it is set."""

    def __init__(self, memory_bytes: int = 10, load_gate: threading.Event | None = None) -> None:
        self.calls: list[VersionKey] = []
        self.lock = threading.Lock()
        self.load_gate = load_gate
        self.memory_bytes = memory_bytes
        self.fail: dict[VersionKey, Exception] = {}
        self.gates: dict[VersionKey, threading.Event] = {}
        self.runtimes: list[Doubler] = []

    def __call__(self, key: VersionKey) -> Doubler:
        with self.lock:
            self.calls.append(key)
        if self.load_gate is not None:
            assert self.load_gate.wait(5)
        if key in self.fail:
            raise self.fail[key]
        rt = Doubler(key, self.memory_bytes, self.gates.get(key))
        self.runtimes.append(rt)
        return rt


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Waits in loop time for what a thread (a load, a batch, a close) is about to do."""
    deadline = loop_now() + timeout_s
    while not condition():
        assert loop_now() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def test_fifty_concurrent_first_requests_trigger_one_load() -> None:
    async def main() -> None:
        gate, now, cold = threading.Event(), [100.0], []
        loader = Loader(load_gate=gate)
        host = ModelHost(loader, memory_budget_bytes=100, clock=lambda: now[0], on_cold_start=cold.append)
        requests = asyncio.gather(*(host.predict(A, [i]) for i in range(50)))
        await eventually(lambda: loader.calls == [A])  # every request has arrived while it loads
        now[0] += 0.1  # the load takes 0.1 s of the host's clock
        gate.set()
        out = await requests
        assert out == [[(1, 2 * i)] for i in range(50)]
        assert loader.calls == [A]
        status = host.states()[A]
        assert status.state is VersionState.READY and status.load_s == pytest.approx(0.1)
        assert cold == [A] * 50  # every one of them waited for the load
        await host.runtime(B)  # a preload (or a signature lookup) is not a request: no cold start
        assert await host.predict(B, [1]) == [(2, 2)] and cold == [A] * 50
        assert sum(loader.runtimes[0].batches) == 50 and len(loader.runtimes[0].batches) < 50  # batched
        await host.close()

    run_in_loop_time(main)


def test_least_recently_used_idle_version_is_evicted() -> None:
    async def main() -> None:
        loader = Loader(memory_bytes=40)
        host = ModelHost(loader, memory_budget_bytes=100)
        await host.predict(A, [1])
        await host.predict(B, [1])
        await host.predict(A, [1])  # A is now more recent than B
        await host.predict(C, [1])
        states = host.states()
        assert [states[k].state for k in (A, B, C)] == [
            VersionState.READY,
            VersionState.EVICTED,
            VersionState.READY,
        ]
        assert "memory budget" in (states[B].reason or "")
        await eventually(lambda: loader.runtimes[1].closed)
        assert not loader.runtimes[0].closed
        assert await host.predict(B, [3]) == [(2, 6)]  # reloads on demand, evicting A (now the LRU)
        assert loader.calls == [A, B, C, B]
        assert host.states()[A].state is VersionState.EVICTED
        await host.close()

    run_in_loop_time(main)


def test_a_busy_version_is_never_evicted() -> None:
    async def main() -> None:
        loader = Loader(memory_bytes=60)
        gate = threading.Event()
        loader.gates[A] = gate
        host = ModelHost(loader, memory_budget_bytes=100)
        busy = asyncio.ensure_future(host.predict(A, [5]))
        await eventually(lambda: A in host.states() and host.states()[A].in_flight == 1)
        assert await host.predict(B, [1]) == [(2, 2)]  # admitted over budget while A works
        assert host.states()[A].state is VersionState.READY and not loader.runtimes[0].closed
        gate.set()
        assert await busy == [(1, 10)]
        await eventually(lambda: sum(s.memory_bytes for s in host.states().values()) <= 100)
        states = host.states()
        ready = [k for k in (A, B) if states[k].state is VersionState.READY]
        assert len(ready) == 1  # back within budget as soon as a version went idle
        assert sum(s.memory_bytes for s in states.values()) <= 100
        await host.close()

    run_in_loop_time(main)


def test_an_acquired_runtime_is_not_evicted_until_released() -> None:
    async def main() -> None:
        loader = Loader(memory_bytes=60)
        host = ModelHost(loader, memory_budget_bytes=100)
        runtime, release = await host.acquire(A)  # e.g. `similar`, calling the runtime in its own thread
        assert host.states()[A].in_flight == 1
        assert await host.predict(B, [1]) == [(2, 2)]  # over budget: only B, idle again, may go
        await eventually(lambda: host.states()[B].state is VersionState.EVICTED)
        assert host.states()[A].state is VersionState.READY and not runtime.closed  # type: ignore[attr-defined]
        release()
        release()  # a second call changes nothing
        assert host.states()[A].in_flight == 0
        assert await host.predict(C, [1]) == [(3, 2)]  # now A is idle and the least recently used
        await eventually(lambda: host.states()[A].state is VersionState.EVICTED)
        await eventually(lambda: runtime.closed)  # type: ignore[attr-defined]
        await host.close()

    run_in_loop_time(main)


def test_failed_load_is_reported_with_reason_and_retried_after_backoff() -> None:
    async def main() -> None:
        loader = Loader()
        loader.fail[A] = RuntimeError("artifact sha256 mismatch")
        now = [1000.0]  # the host's clock, moved by hand: no waiting for the back-off
        host = ModelHost(loader, memory_budget_bytes=100, retry_backoff_s=30.0, clock=lambda: now[0])
        for _ in range(3):
            with pytest.raises(ModelUnavailable) as info:
                await host.predict(A, [1])
            assert info.value.details["reason"] == "RuntimeError: artifact sha256 mismatch"
        assert loader.calls == [A]  # no reload storm inside the back-off
        status = host.states()[A]
        assert status.state is VersionState.FAILED and status.failures == 1 and status.retry_in_s is not None
        now[0] += 29.0
        with pytest.raises(ModelUnavailable):  # still inside the back-off
            await host.predict(A, [1])
        assert loader.calls == [A]
        now[0] += 1.5
        del loader.fail[A]
        assert await host.predict(A, [2]) == [(1, 4)]
        assert loader.calls == [A, A] and host.states()[A].failures == 0
        await host.close()

    run_in_loop_time(main)


def test_a_version_bigger_than_the_budget_fails_to_load() -> None:
    async def main() -> None:
        host = ModelHost(Loader(memory_bytes=500), memory_budget_bytes=100)
        with pytest.raises(ModelUnavailable) as info:
            await host.predict(A, [1])
        assert "memory budget" in info.value.details["reason"]
        await host.close()

    run_in_loop_time(main)


def test_validation_errors_name_the_item() -> None:
    async def main() -> None:
        host = ModelHost(Loader(), memory_budget_bytes=100)
        with pytest.raises(ValidationFailed) as info:
            await host.predict(A, [1, 2, "three"])
        assert info.value.details == {"field": "x", "index": 2}
        with pytest.raises(ValidationFailed):
            await host.predict(A, [])
        await host.close()

    run_in_loop_time(main)


def test_load_timeout_leaves_the_load_running() -> None:
    async def main() -> None:
        gate = threading.Event()
        loader = Loader(load_gate=gate)
        host = ModelHost(loader, memory_budget_bytes=100)
        started = loop_now()
        with pytest.raises(DeadlineExceeded):
            await host.predict(A, [1], timeout_s=0.05)
        assert loop_now() - started == pytest.approx(0.05)
        assert host.states()[A].state is VersionState.LOADING
        gate.set()
        assert await host.predict(A, [1]) == [(1, 2)]
        assert loader.calls == [A]
        await host.close()

    run_in_loop_time(main)


def test_warmup_runs_before_ready_and_its_failure_fails_the_load() -> None:
    async def main() -> None:
        warmed: list[VersionKey] = []

        def warmup(key: VersionKey, runtime: Any) -> None:
            if key == B:
                raise ValueError("warm-up produced NaN")
            runtime.predict_batch([0])
            warmed.append(key)

        loader = Loader()
        host = ModelHost(loader, memory_budget_bytes=100, warmup=warmup)
        assert await host.predict(A, [1]) == [(1, 2)]
        assert warmed == [A] and loader.runtimes[0].batches[0] == 1
        with pytest.raises(ModelUnavailable) as info:
            await host.predict(B, [1])
        assert "NaN" in info.value.details["reason"] and loader.runtimes[1].closed
        await host.close()

    run_in_loop_time(main)


def test_per_version_batch_config() -> None:
    async def main() -> None:
        loader = Loader()
        host = ModelHost(loader, memory_budget_bytes=100, default_batch=BatchConfig(max_batch_size=64))
        host.set_batch_config(A, BatchConfig(max_batch_size=4, max_wait_ms=0))
        await host.predict(A, list(range(10)))
        assert max(loader.runtimes[0].batches) == 4
        batcher = host._entries[A].batcher
        host.set_batch_config(A, BatchConfig(max_batch_size=4, max_wait_ms=0))  # the same: no change
        assert host._entries[A].batcher is batcher
        host.set_batch_config(A, BatchConfig(max_batch_size=2, max_wait_ms=0))  # live change
        assert host._entries[A].batcher is not batcher
        await host.predict(A, list(range(10)))
        assert loader.runtimes[0].batches[-5:] == [2, 2, 2, 2, 2]
        await host.close()

    run_in_loop_time(main)


def test_unload_drains_then_releases_and_close_refuses() -> None:
    async def main() -> None:
        loader = Loader()
        gate = threading.Event()
        loader.gates[A] = gate
        host = ModelHost(loader, memory_budget_bytes=100)
        pending = asyncio.ensure_future(host.predict(A, [4]))
        await eventually(lambda: A in host.states() and host.states()[A].in_flight == 1)
        unloading = asyncio.ensure_future(host.unload(A))
        await asyncio.sleep(0.02)
        assert not unloading.done()
        gate.set()
        await unloading
        assert await pending == [(1, 8)] and loader.runtimes[0].closed
        assert host.states()[A].state is VersionState.EVICTED
        assert await host.predict(A, [1]) == [(1, 2)]  # loads again
        await host.close()
        assert all(rt.closed for rt in loader.runtimes)
        with pytest.raises(NotReady):
            await host.predict(A, [1])

    run_in_loop_time(main)


def test_host_serves_a_real_skops_artifact(tmp_path: Path) -> None:
    import numpy as np
    import skops.io
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    clf = LogisticRegression().fit(x, x[:, 0] > 0)
    skops.io.dump(clf, tmp_path / "m.skops")

    async def main() -> None:
        host = ModelHost(
            lambda key: load_runtime("sklearn", tmp_path / "m.skops", {}), memory_budget_bytes=1 << 30
        )
        out = await asyncio.gather(*(host.predict(A, [row]) for row in x[:20].tolist()))
        np.testing.assert_allclose([o[0] for o in out], clf.predict_proba(x[:20]))
        with pytest.raises(ValidationFailed) as info:
            await host.predict(A, [[1.0, 2.0]])
        assert info.value.details["field"] == "features"
        await host.close()

    run_in_loop_time(main)
