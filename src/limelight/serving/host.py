"""The model host: loads versions lazily, keeps them under a memory budget, batches their requests.

Per version: ``loading`` -> ``ready`` (a Runtime and a Batcher) or ``failed`` (reason kept, retried
after a back-off that doubles per failure); ``ready`` -> ``evicted`` when the least recently used
idle version must make room, or on ``unload``. Concurrent first requests share one load. A
version with requests in flight or queued is never evicted; the host then runs over budget for a
while and evicts as soon as a version goes idle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from limelight.errors import DeadlineExceeded, LimelightError, ModelUnavailable, NotReady, ValidationFailed
from limelight.runtimes.base import Runtime
from limelight.serving.batching import Batcher, BatchObserver
from limelight.verbs import VersionKey

__all__ = ["BatchConfig", "ModelHost", "VersionKey", "VersionState", "VersionStatus"]

log = logging.getLogger(__name__)
_MAX_LOAD_ATTEMPTS_PER_REQUEST = 3  # a version evicted again before its waiter ran: budget too small


class VersionState(StrEnum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    EVICTED = "evicted"


@dataclass(frozen=True)
class BatchConfig:
    max_batch_size: int = 32
    max_wait_ms: float = 2.0
    max_queue: int = 256
    inline: bool = False  # compute on the event loop: only for cheap models (see batching.py)
    inline_when_idle: bool = False  # inline while idle, batched in a thread under load


@dataclass(frozen=True)
class VersionStatus:
    key: VersionKey
    state: VersionState
    reason: str | None
    memory_bytes: int
    in_flight: int
    queue_depth: int
    failures: int
    load_s: float | None
    idle_s: float
    retry_in_s: float | None


class _Entry:
    __slots__ = (
        "key",
        "state",
        "runtime",
        "batcher",
        "reason",
        "failures",
        "retry_at",
        "loaded",
        "in_flight",
        "memory_bytes",
        "load_s",
        "last_used",
    )

    def __init__(self, key: VersionKey, now: float, failures: int = 0) -> None:
        self.key = key
        self.state = VersionState.LOADING
        self.runtime: Runtime | None = None
        self.batcher: Batcher | None = None
        self.reason: str | None = None
        self.failures = failures
        self.retry_at = 0.0
        self.loaded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.in_flight = 0
        self.memory_bytes = 0
        self.load_s: float | None = None
        self.last_used = now


class ModelHost:
    """``await host.predict(key, items)`` loads ``key`` if needed and answers through its batcher."""

    def __init__(
        self,
        loader: Callable[[VersionKey], Runtime],
        *,
        memory_budget_bytes: int,
        default_batch: BatchConfig | None = None,
        warmup: Callable[[VersionKey, Runtime], None] | None = None,
        retry_backoff_s: float = 5.0,
        max_retry_backoff_s: float = 300.0,
        load_executor: Executor | None = None,
        inference_executor: Executor | None = None,
        observer_factory: Callable[[VersionKey], BatchObserver] | None = None,
        on_cold_start: Callable[[VersionKey], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._budget_bytes = memory_budget_bytes
        self._default_batch = default_batch or BatchConfig()
        self._configs: dict[VersionKey, BatchConfig] = {}
        self._warmup = warmup
        self._retry_backoff_s = retry_backoff_s
        self._max_retry_backoff_s = max_retry_backoff_s
        self._owns_load_executor = load_executor is None
        self._load_executor = load_executor or ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="model-load"
        )
        self._inference_executor = inference_executor  # None: one thread per loaded version
        self._observer_factory = observer_factory
        self._on_cold_start = on_cold_start  # a request had to wait for its version to load
        self._clock = clock
        self._entries: OrderedDict[VersionKey, _Entry] = OrderedDict()  # least recently used first
        self._tasks: set[asyncio.Task[None]] = set()
        self._over_budget = False
        self._closed = False

    # ---- requests ---------------------------------------------------------------------------

    async def predict(
        self, key: VersionKey, items: Sequence[Any], *, timeout_s: float | None = None
    ) -> list[Any]:
        """Outputs for ``items`` (each validated by the runtime; errors name the item index)."""
        if not items:
            raise ValidationFailed("inputs must not be empty", details={"field": "inputs"})
        deadline = None if timeout_s is None else self._clock() + timeout_s
        entry = self._entries.get(key)
        if entry is None or entry.state is not VersionState.READY:
            entry = await self._ready_entry(key, timeout_s, request=True)
        runtime, batcher = entry.runtime, entry.batcher
        assert runtime is not None and batcher is not None  # READY implies both
        validated = _validated(runtime, items)
        self._hold(entry)
        try:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            if len(validated) == 1:
                return [await batcher.submit(validated[0], remaining)]
            return await batcher.submit_many(validated, remaining)
        finally:
            self._let_go(entry)

    async def runtime(self, key: VersionKey, *, timeout_s: float | None = None) -> Runtime:
        """The loaded runtime of ``key`` (loading it if needed), e.g. for its signature. To call it,
        use ``acquire``: a runtime fetched here may be evicted while a call runs."""
        entry = await self._ready_entry(key, timeout_s)
        assert entry.runtime is not None
        return entry.runtime

    async def acquire(
        self, key: VersionKey, *, timeout_s: float | None = None
    ) -> tuple[Runtime, Callable[[], None]]:
        """The loaded runtime of ``key`` and the function that lets it go: until that is called the
        version is in use and never evicted (for verbs that call the runtime themselves, e.g.
        ``similar``, rather than through the batcher). Call it once, on the event loop."""
        entry = await self._ready_entry(key, timeout_s, request=True)
        assert entry.runtime is not None
        self._hold(entry)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._let_go(entry)

        return entry.runtime, release

    def _hold(self, entry: _Entry) -> None:
        entry.in_flight += 1  # before any await: eviction never picks a version in use
        self._entries.move_to_end(entry.key)

    def _let_go(self, entry: _Entry) -> None:
        entry.in_flight -= 1
        entry.last_used = self._clock()
        if self._over_budget and entry.in_flight == 0:
            self._evict_to_fit(0, exclude=None)

    def set_batch_config(self, key: VersionKey, config: BatchConfig) -> None:
        """Batching for one version; applies now if it is loaded (the old batcher drains).
        Setting the config a version already has changes nothing (callers may re-apply often)."""
        if self._configs.get(key) == config:
            return
        self._configs[key] = config
        entry = self._entries.get(key)
        if entry is not None and entry.state is VersionState.READY and entry.runtime is not None:
            old, entry.batcher = entry.batcher, self._new_batcher(key, entry.runtime)
            if old is not None:
                self._spawn(old.close(drain=True))

    def states(self) -> dict[VersionKey, VersionStatus]:
        now = self._clock()
        return {key: _status(e, now) for key, e in self._entries.items()}

    # ---- loading ----------------------------------------------------------------------------

    async def _ready_entry(self, key: VersionKey, timeout_s: float | None, *, request: bool = False) -> _Entry:
        """The READY entry of ``key``, loading it if needed; ``request``: a request waits on it (not a
        preload or a signature lookup), so a wait for a load is reported as its cold start."""
        cold = False
        for _ in range(_MAX_LOAD_ATTEMPTS_PER_REQUEST):
            if self._closed:
                raise NotReady("the model host is shutting down")
            entry = self._entries.get(key)
            if entry is not None and entry.state is VersionState.FAILED and self._clock() < entry.retry_at:
                raise self._unavailable(entry)
            if entry is None or entry.state in (VersionState.FAILED, VersionState.EVICTED):
                entry = self._start_load(key, entry)
            if entry.state is VersionState.LOADING:
                if request and not cold and self._on_cold_start is not None:
                    cold = True
                    self._on_cold_start(key)
                await _wait(entry.loaded, timeout_s, key)
            if entry.state is VersionState.READY:
                return entry
            if entry.state is VersionState.FAILED:
                raise self._unavailable(entry)
        raise ModelUnavailable(
            f"{key} keeps being evicted", details={"model": str(key), "reason": "memory budget too small"}
        )

    def _start_load(self, key: VersionKey, previous: _Entry | None) -> _Entry:
        entry = _Entry(key, self._clock(), failures=previous.failures if previous else 0)
        self._entries[key] = entry
        self._entries.move_to_end(key)
        self._spawn(self._load(entry))
        return entry

    async def _load(self, entry: _Entry) -> None:
        started = self._clock()
        try:
            loop = asyncio.get_running_loop()
            runtime = await loop.run_in_executor(self._load_executor, self._load_and_warm, entry.key)
            if entry.state is not VersionState.LOADING:  # unloaded while loading
                await loop.run_in_executor(self._load_executor, runtime.close)
                return
            try:
                self._admit(entry, runtime)
            except LimelightError:
                await loop.run_in_executor(self._load_executor, runtime.close)
                raise
            entry.load_s = self._clock() - started
            log.info("loaded %s in %.2f s (%d bytes)", entry.key, entry.load_s, entry.memory_bytes)
        except Exception as exc:
            self._mark_failed(entry, exc)
        finally:
            _resolve(entry.loaded)

    def _load_and_warm(self, key: VersionKey) -> Runtime:
        runtime = self._loader(key)
        if self._warmup is not None:
            try:
                self._warmup(key, runtime)
            except Exception:
                runtime.close()
                raise
        return runtime

    def _admit(self, entry: _Entry, runtime: Runtime) -> None:
        size_bytes = max(0, int(runtime.memory_bytes))
        if size_bytes > self._budget_bytes:
            raise ModelUnavailable(
                f"{entry.key} needs {size_bytes} bytes; the memory budget is {self._budget_bytes}",
                details={"model": str(entry.key), "memory_bytes": size_bytes},
            )
        self._evict_to_fit(size_bytes, exclude=entry.key)
        entry.runtime, entry.memory_bytes = runtime, size_bytes
        entry.batcher = self._new_batcher(entry.key, runtime)
        entry.state, entry.reason, entry.failures = VersionState.READY, None, 0
        self._over_budget = self._used_bytes() > self._budget_bytes

    def _new_batcher(self, key: VersionKey, runtime: Runtime) -> Batcher:
        config = self._configs.get(key, self._default_batch)
        return Batcher(
            runtime.predict_batch,
            max_batch_size=max(1, min(config.max_batch_size, int(runtime.max_batch_size))),
            max_wait_ms=config.max_wait_ms,
            max_queue=config.max_queue,
            executor=self._inference_executor,
            inline=config.inline,
            inline_when_idle=config.inline_when_idle,
            observer=self._observer_factory(key) if self._observer_factory else None,
            name=str(key),
        )

    def _mark_failed(self, entry: _Entry, exc: Exception) -> None:
        entry.failures += 1
        backoff_s = min(self._max_retry_backoff_s, self._retry_backoff_s * 2 ** (entry.failures - 1))
        entry.state, entry.retry_at = VersionState.FAILED, self._clock() + backoff_s
        entry.reason = _reason(exc)
        log.warning("loading %s failed (%s); retry in %.1f s", entry.key, entry.reason, backoff_s)

    def _unavailable(self, entry: _Entry) -> ModelUnavailable:
        retry_in_s = max(0.0, entry.retry_at - self._clock())
        return ModelUnavailable(
            f"{entry.key} could not be loaded",
            details={"model": str(entry.key), "reason": entry.reason, "retry_in_s": round(retry_in_s, 3)},
        )

    # ---- memory -----------------------------------------------------------------------------

    def _used_bytes(self) -> int:
        return sum(e.memory_bytes for e in self._entries.values() if e.state is VersionState.READY)

    def _evict_to_fit(self, extra_bytes: int, exclude: VersionKey | None) -> None:
        used = self._used_bytes()
        for key, entry in list(self._entries.items()):  # least recently used first
            if used + extra_bytes <= self._budget_bytes:
                break
            if key == exclude or entry.state is not VersionState.READY or _busy(entry):
                continue
            used -= entry.memory_bytes
            self._release(entry, VersionState.EVICTED, "evicted to stay within the memory budget")
        self._over_budget = used + extra_bytes > self._budget_bytes

    def _release(self, entry: _Entry, state: VersionState, reason: str) -> asyncio.Task[None]:
        batcher, runtime = entry.batcher, entry.runtime
        entry.state, entry.reason = state, reason
        entry.batcher, entry.runtime, entry.memory_bytes = None, None, 0
        log.info("%s: %s", entry.key, reason)
        return self._spawn(self._close_version(batcher, runtime))

    async def _close_version(self, batcher: Batcher | None, runtime: Runtime | None) -> None:
        if batcher is not None:
            await batcher.close(drain=True)
        if runtime is not None:
            await asyncio.get_running_loop().run_in_executor(self._load_executor, runtime.close)

    # ---- lifecycle --------------------------------------------------------------------------

    async def unload(self, key: VersionKey) -> None:
        """Stop serving ``key``: its queued requests are answered first, then it is released."""
        entry = self._entries.get(key)
        if entry is None:
            return
        if entry.state is VersionState.LOADING:
            entry.state, entry.reason = VersionState.EVICTED, "unloaded"
            await asyncio.shield(entry.loaded)
        elif entry.state is VersionState.READY:
            await asyncio.shield(self._release(entry, VersionState.EVICTED, "unloaded"))

    async def close(self) -> None:
        """Refuse new requests, drain and release every version, stop the load threads."""
        self._closed = True
        for key in list(self._entries):
            await self.unload(key)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._owns_load_executor:
            self._load_executor.shutdown(wait=False)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)  # keep a reference until done
        task.add_done_callback(self._tasks.discard)
        return task


def _validated(runtime: Runtime, items: Sequence[Any]) -> list[Any]:
    out = []
    for index, item in enumerate(items):
        try:
            out.append(runtime.validate_input(item))
        except LimelightError as exc:  # a refused item (422, or 413 for an image over its limit) names its index
            if exc.status < 500:
                exc.details = {**exc.details, "index": index}
            raise
    return out


def _busy(entry: _Entry) -> bool:
    return entry.in_flight > 0 or (entry.batcher is not None and entry.batcher.busy)


def _status(entry: _Entry, now: float) -> VersionStatus:
    return VersionStatus(
        key=entry.key,
        state=entry.state,
        reason=entry.reason,
        memory_bytes=entry.memory_bytes,
        in_flight=entry.in_flight,
        queue_depth=entry.batcher.queue_depth if entry.batcher else 0,
        failures=entry.failures,
        load_s=entry.load_s,
        idle_s=max(0.0, now - entry.last_used),
        retry_in_s=max(0.0, entry.retry_at - now) if entry.state is VersionState.FAILED else None,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, LimelightError):
        return f"{exc.code}: {exc.message}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


async def _wait(loaded: asyncio.Future[None], timeout_s: float | None, key: VersionKey) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(loaded), timeout_s)
    except TimeoutError as exc:  # the load goes on for the next request
        raise DeadlineExceeded(f"{key} is still loading", details={"model": str(key)}) from exc


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
