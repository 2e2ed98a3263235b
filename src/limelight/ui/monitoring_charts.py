"""Line charts of a model's or an org's traffic, from the monitoring service's points.

While a canary route is live every chart has one line per version, so the versions can be
compared; otherwise one line for the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from limelight.schemas.monitoring import ModelMonitoring, TrafficPoint, VersionTraffic
from limelight.ui.charts import LineChart, line_chart

SERIES_CLASSES = ("s1", "s2", "s3", "s4", "s5")
Series = list[tuple[float, float | None]]


def _rate(points: Sequence[TrafficPoint], step_s: int) -> Series:
    return [(p.start.timestamp(), p.requests / step_s) for p in points]


def _errors(points: Sequence[TrafficPoint], *, server: bool) -> Series:
    return [(p.start.timestamp(), float(p.server_errors if server else p.client_errors)) for p in points]


def _latency(points: Sequence[TrafficPoint], quantile: str) -> Series:
    return [(p.start.timestamp(), getattr(p, quantile)) for p in points]


def requests_chart(points: Sequence[TrafficPoint], step_s: int, title: str = "Requests per second") -> LineChart:
    return line_chart([("requests/s", "s1", _rate(points, step_s))], title=title, unit="req/s")


def model_charts(view: ModelMonitoring) -> list[LineChart]:
    if view.canary and len(view.versions) > 1:
        return _by_version(view.versions, view.step_s)
    return [
        requests_chart(view.points, view.step_s),
        line_chart([("p50", "s1", _latency(view.points, "p50_ms")), ("p99", "s2", _latency(view.points, "p99_ms"))],
                   title="Latency", unit="ms"),
        line_chart([("4xx", "s2", _errors(view.points, server=False)), ("5xx", "s3", _errors(view.points, server=True))],
                   title="Errors per step", unit=""),
    ]


def _by_version(versions: Sequence[VersionTraffic], step_s: int) -> list[LineChart]:
    named = [(f"v{v.version}" if v.version else "unresolved", SERIES_CLASSES[i % len(SERIES_CLASSES)], v.points)
             for i, v in enumerate(versions)]
    return [
        line_chart([(name, css, _rate(points, step_s)) for name, css, points in named],
                   title="Requests per second by version", unit="req/s"),
        line_chart([(name, css, _latency(points, "p99_ms")) for name, css, points in named],
                   title="Latency p99 by version", unit="ms"),
        line_chart([(name, css, _errors(points, server=True)) for name, css, points in named],
                   title="Server errors (5xx) per step by version", unit=""),
    ]
