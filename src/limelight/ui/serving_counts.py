"""Reading the serving engine's Prometheus counters per model (``limelight.serving.metrics``).

The engine exports cumulative counters and a latency histogram; the console samples them (see
``traffic.py``) and turns the differences into rates and quantiles. Reading goes through the
engine's own ``render()``, so under ``--workers N`` it sees the totals of every process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REQUESTS = "limelight_requests"
LATENCY = "limelight_request_duration_seconds"
NO_MODEL = "-"


@dataclass
class ModelCounts:
    requests: float = 0.0
    errors: float = 0.0  # answers with a status of 400 or more
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound (s) → cumulative count


def serving_metrics(state: Any) -> Any | None:
    """The engine's ``ServingMetrics``, or None when this build serves no models."""
    engine = state.extras.get("serving")
    metrics = getattr(engine, "metrics", None) or state.extras.get("serving_metrics")
    return metrics if metrics is not None and hasattr(metrics, "render") else None


def read_counts(metrics: Any) -> dict[str, ModelCounts]:
    """``org/name`` → its counts, summed over versions, routes and statuses (shadow copies excluded)."""
    from prometheus_client.parser import text_string_to_metric_families

    body, _ = metrics.render()
    counts: dict[str, ModelCounts] = {}
    for family in text_string_to_metric_families(body.decode("utf-8", "replace")):
        if family.name not in (REQUESTS, LATENCY):
            continue
        for sample in family.samples:
            labels = sample.labels
            model = labels.get("model", NO_MODEL)
            if model == NO_MODEL or labels.get("route", "").startswith("shadow:"):
                continue
            into = counts.setdefault(model, ModelCounts())
            if sample.name == REQUESTS + "_total":
                into.requests += sample.value
                if _status(labels) >= 400:
                    into.errors += sample.value
            elif sample.name == LATENCY + "_bucket":
                bound = float(labels.get("le", "inf"))
                into.buckets[bound] = into.buckets.get(bound, 0.0) + sample.value
    return counts


def _status(labels: dict[str, str]) -> int:
    raw = labels.get("status", "0")
    return int(raw) if raw.isdigit() else 0
