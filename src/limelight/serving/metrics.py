"""Prometheus metrics of the serving path (prometheus-client), correct across API processes.

One ``ServingMetrics`` per process, built in the app lifespan with its own registry (no global
state). Under ``limelight serve --workers N`` every process writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``render()`` merges them, so a scrape that lands on any process
reports the totals of all of them. That directory must be in the environment before
``prometheus_client`` is first imported; ``limelight.serving.lifecycle`` arranges it.

Series (``model`` is ``org/name``, ``-`` when the request never resolved to a model, so unknown
names cannot grow the label set; ``route`` is ``protocol:verb`` such as ``v1:predict``,
``v2:infer``, ``grpc:infer``, ``shadow:predict``):

* ``limelight_requests_total{model,version,route,status}`` and
  ``limelight_request_duration_seconds{...}`` (histogram), status is the HTTP code
  (gRPC statuses are mapped to the HTTP code of the same error);
* ``limelight_batch_size{model,version}`` (histogram) and ``limelight_batch_duration_seconds``;
* ``limelight_queue_depth{model,version}``, ``limelight_loaded_models{state}`` (gauges, summed
  over live processes);
* ``limelight_model_load_seconds{model,version}`` (histogram);
* ``limelight_cold_starts_total{model,version}``: requests that waited for their version to load
  (a version preloaded before an alias or deployment moved to it causes none);
* ``limelight_rejected_requests_total{model,reason}``: ``rate_limited``, ``queue_full``,
  ``deadline``, ``closed``, ``too_large``, ``predicted_timeout`` (refused at once: the queue ahead
  would outlast the request's timeout).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from limelight.monitoring.rollups import RollupBuffer

__all__ = ["NO_MODEL", "ServingMetrics", "VersionObserver"]

NO_MODEL = "-"
_LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_IDLE_GAP_CAP_S = 0.05
_LOAD_BUCKETS_S = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class VersionObserver:
    """The batcher's hooks for one version (``limelight.serving.batching.BatchObserver``), and its
    measured service rate, which the engine uses to refuse requests that could not finish in time."""

    __slots__ = ("_batch_size", "_batch_s", "_queue", "_metrics", "_model", "_last_end", "items_per_s")

    def __init__(self, metrics: ServingMetrics, model: str, version: str) -> None:
        self._metrics = metrics
        self._model = model
        self._batch_size = metrics.batch_size.labels(model, version)
        self._batch_s = metrics.batch_seconds.labels(model, version)
        self._queue = metrics.queue_depth.labels(model, version)
        self._last_end = 0.0
        self.items_per_s = 0.0  # 0: not measured yet

    def on_batch(self, size: int, queue_depth: int, compute_s: float) -> None:
        self._batch_size.observe(size)
        self._batch_s.observe(compute_s)
        self._queue.set(queue_depth)
        now = time.monotonic()
        # wall time per batch: the compute plus the gap since the last one, idle gaps capped, so
        # the rate includes the loop's own work under load but not the pauses of a quiet model
        interval_s = max(compute_s, min(now - self._last_end, compute_s + _IDLE_GAP_CAP_S)) if self._last_end else compute_s
        self._last_end = now
        rate = size / max(interval_s, 1e-6)
        self.items_per_s = rate if self.items_per_s == 0 else 0.8 * self.items_per_s + 0.2 * rate

    def on_shed(self, reason: str) -> None:
        self._metrics.rejected(self._model, reason)


class ServingMetrics:
    """The serving metrics of this process; ``multiprocess_dir`` set means merged across processes."""

    def __init__(self, multiprocess_dir: Path | None = None, rollups: RollupBuffer | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess_dir = multiprocess_dir
        self.rollups = rollups  # the per-org monitoring's counts, persisted by the API process
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("model", "version", "route", "status")
        reg = self.registry
        self.requests = Counter("limelight_requests", "Inference requests answered.", labels, registry=reg)
        self.latency = Histogram(
            "limelight_request_duration_seconds",
            "Inference request latency.",
            labels,
            buckets=_LATENCY_BUCKETS_S,
            registry=reg,
        )
        self.batch_size = Histogram(
            "limelight_batch_size",
            "Items per model batch.",
            ("model", "version"),
            buckets=_BATCH_BUCKETS,
            registry=reg,
        )
        self.batch_seconds = Histogram(
            "limelight_batch_duration_seconds",
            "Compute time per model batch.",
            ("model", "version"),
            buckets=_LATENCY_BUCKETS_S,
            registry=reg,
        )
        self.queue_depth = Gauge(
            "limelight_queue_depth",
            "Items waiting in a version's queue.",
            ("model", "version"),
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.loaded = Gauge(
            "limelight_loaded_models",
            "Model versions in the host by state.",
            ("state",),
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.load_seconds = Histogram(
            "limelight_model_load_seconds",
            "Time to load a model version.",
            ("model", "version"),
            buckets=_LOAD_BUCKETS_S,
            registry=reg,
        )
        self.cold_starts = Counter(
            "limelight_cold_starts",
            "Requests that waited for their model version to load.",
            ("model", "version"),
            registry=reg,
        )
        self._rejected = Counter(
            "limelight_rejected_requests",
            "Requests refused or dropped, by reason.",
            ("model", "reason"),
            registry=reg,
        )
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
        self._loads_seen: set[tuple[str, str]] = set()

    def observe_request(self, model: str, version: str, route: str, status: int, seconds: float) -> None:
        """One answered request; the labelled children are cached (``labels()`` costs a lock and a dict)."""
        key = (model, version, route, status)
        children = self._children.get(key)
        if children is None:
            if len(self._children) > 50_000:  # bounded: labels come from resolved models only
                self._children.clear()
            code = str(status)
            children = (
                self.requests.labels(model, version, route, code),
                self.latency.labels(model, version, route, code),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if self.rollups is not None and model != NO_MODEL and not route.startswith("shadow:"):
            self.rollups.observe(model, version, status, seconds)  # a shadow copy is not a request

    def rejected(self, model: str, reason: str) -> None:
        self._rejected.labels(model, reason).inc()

    def cold_start(self, model: str, version: int) -> None:
        self.cold_starts.labels(model, str(version)).inc()

    def observer_for(self, model: str, version: int) -> VersionObserver:
        return VersionObserver(self, model, str(version))

    def record_states(self, states: Iterable[tuple[str, str, str, int, float | None]]) -> None:
        """(model, version, state, queue depth, load seconds) of every version in the host, every second."""
        counts: dict[str, int] = {"loading": 0, "ready": 0, "failed": 0, "evicted": 0}
        for model, version, state, depth, load_s in states:
            counts[state] = counts.get(state, 0) + 1
            self.queue_depth.labels(model, version).set(depth)
            if load_s is not None and (model, version) not in self._loads_seen:
                self._loads_seen.add((model, version))
                self.load_seconds.labels(model, version).observe(load_s)
        for state, count in counts.items():
            self.loaded.labels(state).set(count)

    def render(self) -> tuple[bytes, str]:
        """(body, content type) of a scrape: this process, or every process in multiprocess mode."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client.multiprocess import MultiProcessCollector

        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self.multiprocess_dir))
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def close(self) -> None:
        if self.multiprocess_dir is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid(), path=str(self.multiprocess_dir))
