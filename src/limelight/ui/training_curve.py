"""A training job's curve: the ``metric`` log entries a recipe records, drawn as two line charts.

A recipe calls ``ctx.metric({"loss": …, "valid_accuracy": …}, step=…, epoch=…)``; each call is one job
log entry of level ``metric`` whose message is compact JSON. Losses share one chart and every other
number (validation metrics) the other, both over the training step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from limelight.ui.charts import LineChart, line_chart

METRIC_LEVEL = "metric"
_AXIS_KEYS = frozenset({"step", "epoch", "elapsed_s"})
_MAX_SERIES = 4  # more lines than this are unreadable in a 560 px chart
_CSS = ("s1", "s2", "s3", "s4")


@dataclass(frozen=True)
class CurvePoint:
    step: float
    values: dict[str, float]


@dataclass(frozen=True)
class TrainingCurve:
    points: int
    charts: list[LineChart]

    @property
    def empty(self) -> bool:
        return self.points == 0


def curve_points(logs: Iterable[Any]) -> list[CurvePoint]:
    """The metric entries of a job's log, in order; malformed ones are skipped, not fatal."""
    points = []
    for line in logs:
        if getattr(line, "level", None) != METRIC_LEVEL:
            continue
        try:
            payload = json.loads(line.message)
        except (TypeError, ValueError):
            continue
        if not isinstance(payload, dict) or not _number(payload.get("step")):
            continue
        values = {k: float(v) for k, v in payload.items() if k not in _AXIS_KEYS and _number(v)}
        if values:
            points.append(CurvePoint(float(payload["step"]), values))
    return points


def training_curve(logs: Iterable[Any]) -> TrainingCurve:
    points = curve_points(logs)
    names = list(dict.fromkeys(name for p in points for name in p.values))
    losses = [n for n in names if "loss" in n][:_MAX_SERIES]
    others = [n for n in names if "loss" not in n][:_MAX_SERIES]
    charts = [_chart(points, group, title) for group, title in ((losses, "Loss"), (others, "Validation"))
              if group]
    return TrainingCurve(len(points), charts)


def _chart(points: list[CurvePoint], names: list[str], title: str) -> LineChart:
    series = [(name, _CSS[i], [(p.step, p.values[name]) for p in points if name in p.values])
              for i, name in enumerate(names)]
    return line_chart(series, title=title, unit="", x_text=_step_text, empty_text="no points yet")


def _step_text(step: float, _span: float) -> str:
    return f"step {step:.0f}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
