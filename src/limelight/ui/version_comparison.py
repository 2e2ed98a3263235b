"""Versions of one model side by side: every number their metrics share, the change from the first
chosen version, and a chart per headline metric, for the model page's comparison.

Which way is better is read from the metric's name: losses, errors, calibration error and Brier
score go down, everything else (accuracy, F1, AUC, NDCG, recall…) goes up. Metrics only some of
the versions have are shown with a dash where missing, never compared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limelight.schemas.registry import ModelVersionRead
from limelight.ui.charts import BarChart, bar_chart

LOWER_IS_BETTER = ("loss", "error", "ece", "brier", "rmse", "mae", "mse", "perplexity", "seconds", "latency")
HEADLINE = ("ndcg@10", "macro_f1", "accuracy", "roc_auc", "auc", "f1", "r2", "map@10", "recall@10", "brier",
            "rmse", "perplexity")
MAX_CHARTS = 4
MAX_VERSIONS = 6


@dataclass(frozen=True)
class Cell:
    value: float | None
    delta: float | None  # against the first chosen version; None for it and where either is missing
    better: bool | None  # the delta's direction is an improvement


@dataclass(frozen=True)
class Row:
    metric: str
    lower_is_better: bool
    cells: list[Cell]


@dataclass(frozen=True)
class Comparison:
    versions: list[ModelVersionRead]
    rows: list[Row]
    charts: list[BarChart]


def lower_is_better(metric: str) -> bool:
    name = metric.lower()
    return any(word in name for word in LOWER_IS_BETTER)


def compare(versions: Sequence[ModelVersionRead]) -> Comparison:
    numbers = [_numbers(v.metrics) for v in versions]
    names = sorted({k for n in numbers for k in n}, key=lambda k: (k not in HEADLINE, HEADLINE.index(k)
                                                                    if k in HEADLINE else 0, k))
    rows = [_row(name, [n.get(name) for n in numbers]) for name in names]
    shared = [r for r in rows if all(c.value is not None for c in r.cells)]
    charts = [bar_chart([(f"v{v.version}", float(c.value or 0.0)) for v, c in zip(versions, r.cells, strict=True)],
                        title=r.metric, lower_is_better=r.lower_is_better)
              for r in shared[:MAX_CHARTS]]
    return Comparison(versions=list(versions), rows=rows, charts=charts)


def _row(metric: str, values: list[float | None]) -> Row:
    down = lower_is_better(metric)
    base = values[0]
    cells = []
    for i, value in enumerate(values):
        delta = None if i == 0 or value is None or base is None else value - base
        better = None if delta is None or delta == 0 else (delta < 0) == down
        cells.append(Cell(value=value, delta=delta, better=better))
    return Row(metric=metric, lower_is_better=down, cells=cells)


def _numbers(metrics: dict[str, Any]) -> dict[str, float]:
    """The flat, finite numbers of a version's metrics (tables and curves are left to the report)."""
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}
