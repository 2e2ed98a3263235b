"""Chart geometry for small server-rendered SVG charts (no chart library, no inline styles).

The functions only compute coordinates and labels; templates/_charts.html draws them. Colours come
from CSS classes, so the charts follow the stylesheet and need no ``style`` attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LABEL_WIDTH_PX = 170
VALUE_WIDTH_PX = 70
BAR_HEIGHT_PX = 22
BAR_GAP_PX = 10
MAX_MARKERS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: float
    width: float
    best: bool


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bar_x: int
    bar_span: int
    bars: list[Bar]


def bar_chart(values: Sequence[tuple[str, float]], *, title: str, width: int = 560,
              lower_is_better: bool = False) -> BarChart:
    """Horizontal bars (labels stay readable on a phone); the largest value is marked ``best``, or the
    smallest with ``lower_is_better`` (a loss, an error)."""
    span = width - LABEL_WIDTH_PX - VALUE_WIDTH_PX
    top = max((v for _, v in values), default=0.0)
    scale = span / top if top > 0 else 0.0
    best = min((v for _, v in values), default=0.0) if lower_is_better else top
    bars = [
        Bar(label=label, value=value, text=_short(value), y=i * (BAR_HEIGHT_PX + BAR_GAP_PX),
            width=max(1.0, value * scale) if value > 0 else 0.0, best=value == best and top > 0)
        for i, (label, value) in enumerate(values)
    ]
    height = max(1, len(bars)) * (BAR_HEIGHT_PX + BAR_GAP_PX)
    return BarChart(title=title, width=width, height=height, bar_x=LABEL_WIDTH_PX, bar_span=span, bars=bars)


@dataclass(frozen=True)
class Line:
    name: str
    css_class: str
    segments: list[str]  # SVG polyline "x,y x,y …" strings; a gap (no data) splits a line
    last_text: str
    markers: list[tuple[float, float]] = field(default_factory=list)  # dots on sparse lines (x, y)


@dataclass(frozen=True)
class Tick:
    pos: float
    text: str


@dataclass(frozen=True)
class LineChart:
    title: str
    unit: str
    width: int
    height: int
    left: int
    bottom: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    empty: bool
    empty_text: str = "no requests yet"


def line_chart(series: Sequence[tuple[str, str, Sequence[tuple[float, float | None]]]], *, title: str,
               unit: str, width: int = 560, height: int = 200, x_text: Callable[[float, float], str] | None = None,
               empty_text: str = "no requests yet") -> LineChart:
    """``series``: (name, css class, [(x, value or None)]) sharing one x axis: unix time unless
    ``x_text(x, span)`` labels the ticks otherwise (a training step, say)."""
    left, right, top, bottom = 48, 8, 10, height - 24
    times = [t for _, _, pts in series for t, _ in pts]
    values = [v for _, _, pts in series for _, v in pts if v is not None]
    if not times:
        return LineChart(title, unit, width, height, left, bottom, [], [], [], True, empty_text)
    t0, t1 = min(times), max(times)
    v_top = _nice_ceiling(max(values, default=0.0))

    def x_of(t: float) -> float:
        return left + (t - t0) / (t1 - t0 or 1.0) * (width - left - right)

    def y_of(v: float) -> float:
        return bottom - v / v_top * (bottom - top)

    lines = [Line(name, css, _segments(pts, x_of, y_of), _last_text(pts, unit), _markers(pts, x_of, y_of))
             for name, css, pts in series]
    y_ticks = [Tick(round(y_of(v_top * k / 4), 1), _short(v_top * k / 4)) for k in range(5)]
    label = x_text or _clock_text
    x_ticks = [Tick(round(x_of(t0 + (t1 - t0) * k / 3), 1), label(t0 + (t1 - t0) * k / 3, t1 - t0)) for k in range(4)]
    return LineChart(title, unit, width, height, left, bottom, lines, y_ticks, x_ticks, not values, empty_text)


def _segments(points: Sequence[tuple[float, float | None]], x_of: object, y_of: object) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    for t, v in points:
        if v is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        current.append(f"{x_of(t):.1f},{y_of(v):.1f}")  # type: ignore[operator]
    if current:
        segments.append(" ".join(current))
    return segments


def _markers(points: Sequence[tuple[float, float | None]], x_of: Callable[[float], float],
             y_of: Callable[[float], float]) -> list[tuple[float, float]]:
    """A dot per point when there are few (a training curve's evaluations; a single point has no line)."""
    known = [(t, v) for t, v in points if v is not None]
    if len(known) > MAX_MARKERS:
        return []
    return [(round(x_of(t), 1), round(y_of(v), 1)) for t, v in known]


def _last_text(points: Sequence[tuple[float, float | None]], unit: str) -> str:
    known = [v for _, v in points if v is not None]
    return f"{_short(known[-1])} {unit}".strip() if known else "no data"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (1 when there is nothing to show)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _short(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.3g}"


def _clock_text(unix_s: float, span_s: float) -> str:
    return _clock(unix_s, "%H:%M:%S" if span_s < 600 else "%H:%M")


def _clock(unix_s: float, fmt: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix_s, UTC).strftime(fmt)
