"""Counts an API process keeps in memory and adds to the database every few seconds.

The traffic rollups (``monitoring``) and the usage meter (``metering``) both count requests this
way. ``CountBuffer.row`` runs on the request path (the event loop), so it only touches a dict.
``CountFlusher.flush`` swaps the pending counts out on the same thread (``take``), writes them off
the loop with an additive upsert (stored totals are the sum over processes), and puts them back
(``give_back``) when the store is busy or unreachable: they ride along with the next flush, so a
busy database delays numbers without losing them. It also prunes rows past their retention now and
then (every process may: the deletes commute), and is flushed once more on shutdown, after
in-flight requests have drained, so a restart loses no counted request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
Counts = list[float]
MAX_PENDING_KEYS = 100_000  # keys come from resolved models only; this bounds a store outage
PRUNE_EVERY_S = 600.0


class CountBuffer(Generic[K]):
    """Counts of this process not yet added to the store: ``width`` numbers per key."""

    def __init__(self, width: int, max_keys: int = MAX_PENDING_KEYS) -> None:
        self.width = width
        self._max_keys = max_keys
        self._pending: dict[K, Counts] = {}

    def row(self, key: K) -> Counts | None:
        """The key's counts to add to in place; None when the buffer is full (the store has been
        unreachable for a long time: drop rather than grow)."""
        counts = self._pending.get(key)
        if counts is None:
            if len(self._pending) >= self._max_keys:
                return None
            counts = self._pending[key] = [0.0] * self.width
        return counts

    def take(self) -> dict[K, Counts]:
        pending, self._pending = self._pending, {}
        return pending

    def give_back(self, counts: dict[K, Counts]) -> None:
        for key, values in counts.items():
            mine = self._pending.setdefault(key, [0.0] * self.width)
            for i, value in enumerate(values):
                mine[i] += value

    def total(self, column: int) -> float:
        return sum(c[column] for c in self._pending.values())


def count_request(counts: Counts, status: int) -> None:
    """One answered request in the first three columns: requests, client errors (4xx), server errors (5xx)."""
    counts[0] += 1
    if 400 <= status < 500:
        counts[1] += 1
    elif status >= 500:
        counts[2] += 1


class CountFlusher(Generic[K]):
    """Adds a buffer's counts to the store every ``interval_s`` (``write``), prunes every
    ``PRUNE_EVERY_S`` (``prune``, given the clock's now); both run in a thread."""

    def __init__(self, buffer: CountBuffer[K], *, write: Callable[[dict[K, Counts]], object],
                 prune: Callable[[float], object], interval_s: float, what: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.buffer = buffer
        self.interval_s = interval_s
        self._write = write
        self._prune = prune
        self._what = what
        self._clock = clock
        self._pruned_at = 0.0

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()

    async def flush(self) -> dict[K, Counts]:
        """Write what is pending; returns what was stored (nothing when the write failed)."""
        pending = self.buffer.take()
        if pending:
            try:
                await asyncio.to_thread(self._write, pending)
            except Exception as exc:  # noqa: BLE001 - a busy or unreachable store must not stop serving
                self.buffer.give_back(pending)
                log.warning("storing %s failed, retrying with the next flush: %s", self._what, exc)
                pending = {}
        now = self._clock()
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            try:
                await asyncio.to_thread(self._prune, now)
            except Exception as exc:  # noqa: BLE001 - retried at the next period
                log.warning("pruning %s failed: %s", self._what, exc)
        return pending
