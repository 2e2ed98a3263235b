"""Cutoffs, labels and the training table: one row per (user with history, cutoff).

A snapshot at cutoff ``c`` takes every user with an event before ``c``; their features see only
what came before ``c`` and their label only what came in ``[c, c + horizon)``. So a cutoff needs
history before it and a fully observed horizon after it: anything else is ``CutoffOutOfRange``
(422) with the data's range in the details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from limelight.behaviour.features import DAY_S, FeatureSpec, feature_row, user_features
from limelight.behaviour.history import Histories, UserEvents
from limelight.errors import CutoffOutOfRange, ValidationFailed

Target = Literal["churn", "next-action"]


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_moment(value: str | int | float, field: str) -> int:
    """An ISO date/datetime (UTC when no offset) or epoch seconds, as epoch seconds."""
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be an ISO date or epoch seconds", details={"field": field})
    if isinstance(value, int | float):
        if not np.isfinite(value):
            raise ValidationFailed(f"{field} must be finite", details={"field": field})
        return int(value)
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be an ISO date or epoch seconds", details={"field": field})
    if value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return int(float(value))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{field} must be an ISO date (2024-05-01) or epoch seconds, got {value!r}",
                               details={"field": field}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def check_cutoff(cutoff: int, horizon_days: int, start: int, end: int, field: str = "params.cutoff") -> None:
    """The cutoff must have history before it and its whole horizon inside the data."""
    horizon_s = horizon_days * DAY_S
    latest = end - horizon_s + DAY_S  # the label window may end within the data's last day
    if start < cutoff <= latest:
        return
    raise CutoffOutOfRange(
        f"{field} {iso(cutoff)} is outside the data's range: a cutoff needs events before it and its "
        f"{horizon_days}-day horizon inside the data ({iso(start)} .. {iso(end)}), so it must lie "
        f"after {iso(start)} and no later than {iso(latest)}.",
        details={"field": field, "cutoff": iso(cutoff), "data_start": iso(start), "data_end": iso(end),
                 "earliest_cutoff": iso(start + 1), "latest_cutoff": iso(latest), "horizon_days": horizon_days})


def label(events: UserEvents, cutoff: int, horizon_days: int, target: Target, event_type: str | None) -> int:
    """Churn: no event in ``[cutoff, cutoff + horizon)``; next-action: an ``event_type`` event in it."""
    window = events.between(cutoff, cutoff + horizon_days * DAY_S)
    if target == "churn":
        return int(len(window) == 0)
    return int(bool((window.types == event_type).any()))


@dataclass
class Snapshot:
    cutoff: int
    users: list[str]
    features: np.ndarray  # (n, d) float64
    labels: np.ndarray  # (n,) int


def snapshot(histories: Histories, cutoff: int, horizon_days: int, target: Target, spec: FeatureSpec,
             profiles: dict[str, dict[str, object]] | None = None, *,
             active_within_days: int | None = None) -> Snapshot:
    """Every user with history before ``cutoff`` (with an event in the ``active_within_days`` before it,
    when given), their features at the cutoff and their label over the horizon after it."""
    names = spec.names()
    active_from = cutoff - active_within_days * DAY_S if active_within_days is not None else None
    users, rows, labels = [], [], []
    for i, user in enumerate(histories.users.tolist()):
        events = histories.at(i)
        if not len(events) or int(events.ts[0]) >= cutoff:
            continue  # no history before the cutoff: nothing to predict from
        if active_from is not None and not len(events.between(active_from, cutoff)):
            continue  # not an active user at the cutoff: outside the population asked for
        users.append(user)
        rows.append(feature_row(user_features(events, cutoff, spec, (profiles or {}).get(user)), names))
        labels.append(label(events, cutoff, horizon_days, target, spec.event_type))
    features = np.asarray(rows, np.float64).reshape(len(rows), len(names))
    return Snapshot(cutoff, users, features, np.asarray(labels, np.int64))
