"""The features of one user at one moment, from their events strictly before it.

One function, ``user_features``, serves training (every user at every cutoff) and serving (one user
at request time), so the two cannot drift apart; ``FeatureSpec`` is everything it needs besides the
events, and is stored in the artifact as JSON. An event at or after ``as_of`` is cut off before any
feature is computed, which is what makes the features leak-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from limelight.behaviour.history import UserEvents

DAY_S = 86_400
SESSION_GAP_S = 30 * 60  # a pause longer than this starts a new session
WINDOWS_DAYS = (7, 30, 90)
_PLAY_TYPES = ("play", "view", "complete")


@dataclass
class ProfileColumn:
    """A column of the ``users`` dataset: numeric, or categorical with its category list."""

    name: str
    categories: list[str] | None = None  # None: numeric

    @property
    def feature(self) -> str:
        return f"profile.{self.name}"


@dataclass
class FeatureSpec:
    windows_days: list[int] = field(default_factory=lambda: list(WINDOWS_DAYS))
    has_types: bool = True
    has_values: bool = False
    event_type: str | None = None  # next-action: the type whose occurrence is predicted
    item_genres: dict[str, list[str]] | None = None  # from an items dataset: genre diversity
    profile: list[ProfileColumn] = field(default_factory=list)

    def names(self) -> list[str]:
        names = ["days_since_last", "tenure_days", "events_total"]
        names += [f"events_{w}d" for w in self.windows_days]
        names += ["active_days_30d", "trend_30d_vs_90d", "sessions_total", "sessions_30d", "mean_gap_days",
                  "item_diversity"]
        if self.has_types:
            names += ["completion_rate", "skip_rate"]
        if self.has_values:
            names += ["mean_value"]
        if self.item_genres is not None:
            names += ["genres_seen"]
        if self.event_type is not None:
            names += ["target_events_total", "target_events_90d", "days_since_target"]
        return names + [column.feature for column in self.profile]

    def categorical(self) -> list[str]:
        return [column.feature for column in self.profile if column.categories is not None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FeatureSpec:
        profile = [ProfileColumn(**column) for column in raw.get("profile", [])]
        return cls(**{**raw, "profile": profile})


def user_features(events: UserEvents, as_of: int, spec: FeatureSpec,
                  profile: dict[str, Any] | None = None) -> dict[str, float]:
    """The features of a user at ``as_of`` (epoch seconds); NaN where a feature is undefined."""
    past = events.before(as_of)
    n = len(past)
    nan = float("nan")
    out: dict[str, float] = {"days_since_last": (as_of - int(past.ts[-1])) / DAY_S if n else nan,
                             "tenure_days": (as_of - int(past.ts[0])) / DAY_S if n else nan,
                             "events_total": float(n)}
    for window in spec.windows_days:
        out[f"events_{window}d"] = float(_count_since(past.ts, as_of - window * DAY_S))
    recent = past.ts[past.ts >= as_of - 30 * DAY_S]
    out["active_days_30d"] = float(np.unique(recent // DAY_S).shape[0])
    events_90d = _count_since(past.ts, as_of - 90 * DAY_S)
    out["trend_30d_vs_90d"] = recent.shape[0] * 3.0 / events_90d if events_90d else nan
    out["sessions_total"] = float(_sessions(past.ts))
    out["sessions_30d"] = float(_sessions(recent))
    out["mean_gap_days"] = (int(past.ts[-1]) - int(past.ts[0])) / DAY_S / (n - 1) if n > 1 else nan
    out["item_diversity"] = np.unique(past.items).shape[0] / n if n else nan
    if spec.has_types:
        plays = int(np.isin(past.types, _PLAY_TYPES).sum())
        out["completion_rate"] = float((past.types == "complete").sum()) / plays if plays else nan
        out["skip_rate"] = float((past.types == "skip").sum()) / n if n else nan
    if spec.has_values:
        finite = past.values[np.isfinite(past.values)]
        out["mean_value"] = float(finite.mean()) if finite.size else nan
    if spec.item_genres is not None:
        out["genres_seen"] = float(len({g for item in past.items.tolist() for g in spec.item_genres.get(item, ())}))
    if spec.event_type is not None:
        target_ts = past.ts[past.types == spec.event_type]
        out["target_events_total"] = float(target_ts.shape[0])
        out["target_events_90d"] = float(_count_since(target_ts, as_of - 90 * DAY_S))
        out["days_since_target"] = (as_of - int(target_ts[-1])) / DAY_S if target_ts.size else nan
    for column in spec.profile:
        out[column.feature] = _profile_value(column, (profile or {}).get(column.name))
    return out


def _count_since(ts: np.ndarray, since: int) -> int:
    return int(ts.shape[0] - np.searchsorted(ts, since, side="left"))


def _sessions(ts: np.ndarray) -> int:
    return int((np.diff(ts) > SESSION_GAP_S).sum()) + 1 if ts.size else 0


def _profile_value(column: ProfileColumn, value: Any) -> float:
    """A number, or a category's index (LightGBM's native categorical input); NaN when missing/unknown."""
    if value is None:
        return float("nan")
    if column.categories is None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return float("nan")
        return number if np.isfinite(number) else float("nan")
    try:
        return float(column.categories.index(str(value)))
    except ValueError:
        return float("nan")


def feature_row(features: dict[str, float], names: list[str]) -> list[float]:
    return [features[name] for name in names]
