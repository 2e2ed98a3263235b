"""Per-request reasons: LightGBM's per-feature contributions (``pred_contrib``) in a marketer's words."""

from __future__ import annotations

import math
from typing import Any

_PHRASES: dict[str, tuple[str, str]] = {  # feature -> (phrase with {v}, unit formatting)
    "days_since_last": ("no activity for {v} days", "int"),
    "tenure_days": ("a customer for {v} days", "int"),
    "events_total": ("{v} events in total", "int"),
    "active_days_30d": ("active on {v} of the last 30 days", "int"),
    "trend_30d_vs_90d": ("activity in the last 30 days at {v} the 90-day pace", "ratio"),
    "sessions_total": ("{v} sessions in total", "int"),
    "sessions_30d": ("{v} sessions in the last 30 days", "int"),
    "mean_gap_days": ("{v} days between events on average", "float"),
    "item_diversity": ("{v} of events on different titles", "percent"),
    "completion_rate": ("finishes {v} of what they start", "percent"),
    "skip_rate": ("skips {v} of the time", "percent"),
    "mean_value": ("average rating {v}", "float"),
    "genres_seen": ("{v} genres watched", "int"),
    "target_events_total": ("{v} past target actions", "int"),
    "target_events_90d": ("{v} target actions in the last 90 days", "int"),
    "days_since_target": ("last target action {v} days ago", "int"),
}

_UNDEFINED = {  # what an undefined (NaN) feature means, in words
    "days_since_last": "no activity yet",
    "tenure_days": "no activity yet",
    "trend_30d_vs_90d": "no activity in the last 90 days",
    "mean_gap_days": "only one event so far",
    "item_diversity": "no activity yet",
    "completion_rate": "has not started anything",
    "skip_rate": "no activity yet",
    "mean_value": "no ratings yet",
    "days_since_target": "never did the target action",
}


def _format(value: float, unit: str) -> str:
    if unit == "int":
        return str(int(round(value)))
    if unit == "percent":
        return f"{value:.0%}"
    if unit == "ratio":
        return f"{value:.1f}×"
    return f"{value:.1f}"


def describe(feature: str, value: float, typical: float | None, categories: list[str] | None = None) -> str:
    """``"no activity for 45 days (typical: 6)"``."""
    if feature.startswith("profile."):
        name = feature.removeprefix("profile.")
        if math.isnan(value):
            return f"{name} unknown"
        shown = categories[int(value)] if categories is not None else _format(value, "float")
        return f"{name}: {shown}"
    if feature.startswith("events_") and feature.endswith("d"):
        phrase, unit = f"{{v}} events in the last {feature[7:-1]} days", "int"
    else:
        phrase, unit = _PHRASES.get(feature, (feature.replace("_", " ") + " {v}", "float"))
    if math.isnan(value):
        return _UNDEFINED.get(feature, f"{feature.replace('_', ' ')}: none yet")
    text = phrase.format(v=_format(value, unit)).replace(" 1 days", " 1 day")
    if typical is not None and not math.isnan(typical):
        text += f" (typical: {_format(typical, unit)})"
    return text


def top_reasons(names: list[str], values: list[float], contributions: list[float], typical: dict[str, Any],
                categories: dict[str, list[str]], k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` features that moved this prediction most (either way), strongest first."""
    order = sorted(range(len(names)), key=lambda j: -abs(contributions[j]))[:k]
    reasons = []
    for j in order:
        value = values[j]
        typ = typical.get(names[j])
        reasons.append({"feature": names[j], "value": None if math.isnan(value) else round(value, 4),
                        "contribution": round(float(contributions[j]), 6),
                        "text": describe(names[j], value, None if typ is None else float(typ),
                                         categories.get(names[j]))})
    return reasons
