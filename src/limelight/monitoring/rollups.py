"""The in-memory half of the traffic rollups: each API process counts, then adds its counts to the store.

``observe`` runs on the request path (the event loop), so it only touches a dict; the recorder
(``recorder.py``) takes the pending counts and writes them off the loop with
``repository.add_counts`` (see ``limelight.pending_counts`` for how counts wait and flush).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from limelight.db.models.monitoring import BUCKET_COLUMNS, COUNT_COLUMNS, LATENCY_BOUNDS_MS
from limelight.pending_counts import CountBuffer, Counts, count_request

MINUTE_S = 60
HOUR_S = 3600
STEPS_S = (MINUTE_S, HOUR_S)
_REQUESTS, _SUM_MS = 0, 3


@dataclass(frozen=True, order=True)
class RollupKey:
    model: str  # org/name
    version: int  # 0: no version was resolved
    minute_s: int


def empty_counts() -> Counts:  # in COUNT_COLUMNS order
    return [0.0] * len(COUNT_COLUMNS)


def bucket_index(latency_ms: float) -> int:
    """The column (after the four totals) whose bucket holds ``latency_ms``: the first bound >= it."""
    return bisect_left(LATENCY_BOUNDS_MS, latency_ms)


class RollupBuffer(CountBuffer[RollupKey]):
    """Counts of this process not yet added to the store, keyed by model, version and minute."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(len(COUNT_COLUMNS))
        self._clock = clock

    def observe(self, model: str, version: str | int, status: int, seconds: float) -> None:
        minute_s = int(self._clock()) // MINUTE_S * MINUTE_S
        label = str(version)
        counts = self.row(RollupKey(model, int(label) if label.isdigit() else 0, minute_s))
        if counts is None:
            return
        latency_ms = seconds * 1000.0
        count_request(counts, status)  # the first three columns: requests, client and server errors
        counts[_SUM_MS] += latency_ms
        counts[4 + bucket_index(latency_ms)] += 1

    @property
    def pending_requests(self) -> int:
        return int(self.total(_REQUESTS))


def by_step(counts: dict[RollupKey, Counts]) -> dict[tuple[str, int, int, int], Counts]:
    """Per-minute counts also summed per hour: (model, version, step_s, start_s) -> counts."""
    rows: dict[tuple[str, int, int, int], Counts] = {}
    for key, values in counts.items():
        for step_s in STEPS_S:
            row = rows.setdefault((key.model, key.version, step_s, key.minute_s // step_s * step_s), empty_counts())
            for i, value in enumerate(values):
                row[i] += value
    return rows


__all__ = ["BUCKET_COLUMNS", "COUNT_COLUMNS", "Counts", "RollupBuffer", "RollupKey", "by_step", "empty_counts"]
