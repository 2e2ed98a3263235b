"""Statistics of a rollup's counts: rates, availability and latency quantiles from the buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from limelight.db.models.monitoring import LATENCY_BOUNDS_MS
from limelight.schemas.monitoring import TrafficPoint, TrafficStats

REQUESTS, CLIENT_ERRORS, SERVER_ERRORS, SUM_MS, FIRST_BUCKET = 0, 1, 2, 3, 4


def quantile_ms(buckets: Sequence[float], q: float) -> float | None:
    """The q-quantile of per-bucket counts, interpolated linearly inside its bucket (like Prometheus'
    ``histogram_quantile``); in the overflow bucket, the last finite bound."""
    total = sum(buckets)
    if total <= 0:
        return None
    rank, seen, lower = q * total, 0.0, 0.0
    for bound, count in zip(LATENCY_BOUNDS_MS, buckets, strict=False):
        if count > 0 and seen + count >= rank:
            return round(lower + (bound - lower) * (rank - seen) / count, 3)
        seen, lower = seen + count, bound
    return float(LATENCY_BOUNDS_MS[-1])


def stats(counts: Sequence[float], window_s: float) -> TrafficStats:
    requests = int(counts[REQUESTS])
    buckets = counts[FIRST_BUCKET:]
    return TrafficStats(
        requests=requests, client_errors=int(counts[CLIENT_ERRORS]), server_errors=int(counts[SERVER_ERRORS]),
        availability=1.0 - counts[SERVER_ERRORS] / requests if requests else None,
        error_rate=(counts[CLIENT_ERRORS] + counts[SERVER_ERRORS]) / requests if requests else None,
        requests_per_s=requests / window_s if window_s > 0 else 0.0,
        mean_ms=round(counts[SUM_MS] / requests, 3) if requests else None,
        p50_ms=quantile_ms(buckets, 0.5), p95_ms=quantile_ms(buckets, 0.95), p99_ms=quantile_ms(buckets, 0.99),
    )


def point(start_s: int, counts: Sequence[float]) -> TrafficPoint:
    buckets = counts[FIRST_BUCKET:]
    return TrafficPoint(start=datetime.fromtimestamp(start_s, UTC), requests=int(counts[REQUESTS]),
                        client_errors=int(counts[CLIENT_ERRORS]), server_errors=int(counts[SERVER_ERRORS]),
                        p50_ms=quantile_ms(buckets, 0.5), p99_ms=quantile_ms(buckets, 0.99))


def add_into(into: list[float], counts: Sequence[float]) -> None:
    for i, value in enumerate(counts):
        into[i] += float(value or 0)
