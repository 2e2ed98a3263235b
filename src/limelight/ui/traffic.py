"""Request traffic of served models over time: samples of the serving counters, kept in memory.

The serving engine's counters only grow; a time series needs samples. ``TrafficRecorder`` takes
one every ``interval_s`` (and reads the counters again when a page asks, so a chart is never stale) and keeps
``window_s`` of them. Per step it derives requests/s, errors and latency p50/p99 (interpolated in
the histogram buckets, like Prometheus' ``histogram_quantile``). History starts when the process
starts; each API process keeps its own copy of the (merged) counters' history.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from limelight.ui.serving_counts import ModelCounts

WINDOW_S = 3600
INTERVAL_S = 10.0
ON_DEMAND_MIN_GAP_S = 1.0


@dataclass(frozen=True)
class TrafficPoint:
    ts: float  # end of the step, unix seconds
    step_s: float
    requests: float
    errors: float
    p50_ms: float | None
    p99_ms: float | None

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.step_s if self.step_s > 0 else 0.0


@dataclass(frozen=True)
class Traffic:
    points: list[TrafficPoint]

    @property
    def requests(self) -> int:
        return round(sum(p.requests for p in self.points))

    @property
    def errors(self) -> int:
        return round(sum(p.errors for p in self.points))

    @property
    def has_data(self) -> bool:
        return len(self.points) > 0

    def series(self, what: str) -> list[tuple[float, float | None]]:
        pick: dict[str, Callable[[TrafficPoint], float | None]] = {
            "rate": lambda p: p.rate_per_s, "errors": lambda p: p.errors,
            "p50": lambda p: p.p50_ms, "p99": lambda p: p.p99_ms,
        }
        return [(p.ts, pick[what](p)) for p in self.points]


class TrafficRecorder:
    def __init__(self, read: Callable[[], dict[str, ModelCounts]], *, interval_s: float = INTERVAL_S,
                 window_s: float = WINDOW_S) -> None:
        self._read = read
        self.interval_s = interval_s
        self._samples: deque[tuple[float, dict[str, ModelCounts]]] = deque(maxlen=int(window_s / interval_s) + 2)
        self.window_s = window_s

    def sample(self, now: float | None = None) -> None:
        self._samples.append((time.time() if now is None else now, self._read()))

    def traffic(self, *, org: str, name: str | None = None, live: bool = True) -> Traffic:
        """One model's traffic (``name``), or every model of ``org`` together.

        ``live``: read the counters now, so the last step ends at this moment (the reading is kept
        as a sample unless the previous one is very recent).
        """
        samples = list(self._samples)
        if live:
            now = (time.time(), self._read())
            if not samples or now[0] - samples[-1][0] >= ON_DEMAND_MIN_GAP_S:
                self._samples.append(now)
            samples.append(now)
        wanted = (lambda m: m == f"{org}/{name}") if name else (lambda m: m.startswith(f"{org}/"))
        cutoff = time.time() - self.window_s
        points = [_step(prev, cur, wanted) for prev, cur in zip(samples, samples[1:], strict=False)
                  if cur[0] >= cutoff and cur[0] > prev[0]]
        return Traffic(points=points)


def _step(prev: tuple[float, dict[str, ModelCounts]], cur: tuple[float, dict[str, ModelCounts]],
          wanted: Callable[[str], bool]) -> TrafficPoint:
    requests = errors = 0.0
    buckets: dict[float, float] = {}
    for model, now in cur[1].items():
        if not wanted(model):
            continue
        before = prev[1].get(model, ModelCounts())
        requests += _delta(now.requests, before.requests)
        errors += _delta(now.errors, before.errors)
        for bound, count in now.buckets.items():
            buckets[bound] = buckets.get(bound, 0.0) + _delta(count, before.buckets.get(bound, 0.0))
    return TrafficPoint(ts=cur[0], step_s=cur[0] - prev[0], requests=requests, errors=errors,
                        p50_ms=quantile_ms(buckets, 0.5), p99_ms=quantile_ms(buckets, 0.99))


def _delta(now: float, before: float) -> float:
    return now - before if now >= before else now  # a counter reset (restart) starts again from 0


def quantile_ms(buckets: dict[float, float], q: float) -> float | None:
    """The q-quantile of a cumulative histogram, interpolated linearly inside its bucket."""
    ordered = sorted(buckets.items())
    total = ordered[-1][1] if ordered else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound * 1000.0  # beyond the last finite bucket: report its bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return (lower_bound + (bound - lower_bound) * share) * 1000.0
        lower_bound, lower_count = bound, count
    return lower_bound * 1000.0
