"""The in-memory half of the traffic rollups: each API process counts, then adds its counts to the store.

``observe`` runs on the request path (the event loop), so it only touches a dict. ``take`` swaps the
pending counts out on the same thread, and the caller writes them off the loop with
``repository.add_counts``; counts that could not be written go back with ``give_back`` and ride
along with the next flush, so a busy database delays numbers without losing them.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from limelight.db.models.monitoring import BUCKET_COLUMNS, COUNT_COLUMNS, LATENCY_BOUNDS_MS

MINUTE_S = 60
HOUR_S = 3600
STEPS_S = (MINUTE_S, HOUR_S)
_MAX_PENDING_KEYS = 100_000  # labels come from resolved models only; this bounds a store outage
_REQUESTS, _CLIENT, _SERVER, _SUM_MS = 0, 1, 2, 3


@dataclass(frozen=True, order=True)
class RollupKey:
    model: str  # org/name
    version: int  # 0: no version was resolved
    minute_s: int


Counts = list[float]  # in COUNT_COLUMNS order


def empty_counts() -> Counts:
    return [0.0] * len(COUNT_COLUMNS)


def bucket_index(latency_ms: float) -> int:
    """The column (after the four totals) whose bucket holds ``latency_ms``: the first bound >= it."""
    return bisect_left(LATENCY_BOUNDS_MS, latency_ms)


class RollupBuffer:
    """Counts of this process not yet added to the store, keyed by model, version and minute."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: dict[RollupKey, Counts] = {}

    def observe(self, model: str, version: str | int, status: int, seconds: float) -> None:
        minute_s = int(self._clock()) // MINUTE_S * MINUTE_S
        label = str(version)
        key = RollupKey(model, int(label) if label.isdigit() else 0, minute_s)
        counts = self._pending.get(key)
        if counts is None:
            if len(self._pending) >= _MAX_PENDING_KEYS:
                return  # the store has been unreachable for a long time: drop rather than grow
            counts = self._pending[key] = empty_counts()
        latency_ms = seconds * 1000.0
        counts[_REQUESTS] += 1
        if 400 <= status < 500:
            counts[_CLIENT] += 1
        elif status >= 500:
            counts[_SERVER] += 1
        counts[_SUM_MS] += latency_ms
        counts[4 + bucket_index(latency_ms)] += 1

    def take(self) -> dict[RollupKey, Counts]:
        pending, self._pending = self._pending, {}
        return pending

    def give_back(self, counts: dict[RollupKey, Counts]) -> None:
        for key, values in counts.items():
            mine = self._pending.setdefault(key, empty_counts())
            for i, value in enumerate(values):
                mine[i] += value

    @property
    def pending_requests(self) -> int:
        return int(sum(c[_REQUESTS] for c in self._pending.values()))


def by_step(counts: dict[RollupKey, Counts]) -> dict[tuple[str, int, int, int], Counts]:
    """Per-minute counts also summed per hour: (model, version, step_s, start_s) -> counts."""
    rows: dict[tuple[str, int, int, int], Counts] = {}
    for key, values in counts.items():
        for step_s in STEPS_S:
            row = rows.setdefault((key.model, key.version, step_s, key.minute_s // step_s * step_s), empty_counts())
            for i, value in enumerate(values):
                row[i] += value
    return rows


__all__ = ["BUCKET_COLUMNS", "COUNT_COLUMNS", "RollupBuffer", "RollupKey", "by_step", "empty_counts"]
