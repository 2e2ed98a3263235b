"""Event histories per user: sorted timestamps, types, values and items, as plain arrays.

Training builds them from the interactions dataset (plus the live events of its stream); serving
rebuilds one user's history from the same arrays stored in the artifact plus the live feed, so the
two sides hand identical inputs to ``features.user_features``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_TYPE = "event"  # a dataset without an event column: every row is one untyped event


@dataclass(frozen=True)
class UserEvents:
    """One user's events sorted by time (ties keep their input order)."""

    ts: np.ndarray  # int64 epoch seconds
    types: np.ndarray  # unicode
    values: np.ndarray  # float64, NaN when absent
    items: np.ndarray  # unicode

    @classmethod
    def empty(cls) -> UserEvents:
        return cls(np.zeros(0, np.int64), np.zeros(0, "U1"), np.zeros(0, np.float64), np.zeros(0, "U1"))

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def before(self, as_of: int) -> UserEvents:
        """Only the events strictly before ``as_of``: what a feature at ``as_of`` may see."""
        end = int(np.searchsorted(self.ts, as_of, side="left"))
        return UserEvents(self.ts[:end], self.types[:end], self.values[:end], self.items[:end])

    def between(self, start: int, end: int) -> UserEvents:
        lo, hi = np.searchsorted(self.ts, [start, end], side="left")
        return UserEvents(self.ts[lo:hi], self.types[lo:hi], self.values[lo:hi], self.items[lo:hi])

    def plus(self, ts: list[int], types: list[str], values: list[float], items: list[str]) -> UserEvents:
        """These events with more added (re-sorted, stable)."""
        if not ts:
            return self
        all_ts = np.concatenate([self.ts, np.asarray(ts, np.int64)])
        order = np.argsort(all_ts, kind="stable")
        return UserEvents(all_ts[order], np.concatenate([self.types.astype(str), np.asarray(types, str)])[order],
                          np.concatenate([self.values, np.asarray(values, np.float64)])[order],
                          np.concatenate([self.items.astype(str), np.asarray(items, str)])[order])


@dataclass(frozen=True)
class Histories:
    """Every user's events, grouped: user ``users[i]`` owns rows ``offsets[i]:offsets[i+1]``."""

    users: np.ndarray  # unicode (U,), sorted
    offsets: np.ndarray  # int64 (U+1,)
    ts: np.ndarray
    types: np.ndarray
    values: np.ndarray
    items: np.ndarray

    @classmethod
    def from_columns(cls, users: Any, items: Any, ts: Any, types: Any = None, values: Any = None) -> Histories:
        user_arr = np.asarray(users, dtype=str)
        n = user_arr.shape[0]
        ts_arr = np.asarray(ts, dtype=np.int64)
        type_arr = np.asarray(types, dtype=str) if types is not None else np.full(n, DEFAULT_TYPE)
        value_arr = np.asarray(values, dtype=np.float64) if values is not None else np.full(n, np.nan)
        order = np.lexsort((ts_arr, user_arr))  # by user, then time; stable for ties
        sorted_users = user_arr[order]
        unique, starts = np.unique(sorted_users, return_index=True)
        offsets = np.append(starts, n).astype(np.int64)
        return cls(unique, offsets, ts_arr[order], type_arr[order], value_arr[order],
                   np.asarray(items, dtype=str)[order])

    @property
    def start(self) -> int:
        return int(self.ts.min()) if self.ts.size else 0

    @property
    def end(self) -> int:
        return int(self.ts.max()) if self.ts.size else 0

    def index(self, user_id: str) -> int | None:
        i = int(np.searchsorted(self.users, user_id))
        return i if i < self.users.shape[0] and self.users[i] == user_id else None

    def user(self, user_id: str) -> UserEvents:
        i = self.index(user_id)
        return UserEvents.empty() if i is None else self.at(i)

    def at(self, i: int) -> UserEvents:
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return UserEvents(self.ts[lo:hi], self.types[lo:hi], self.values[lo:hi], self.items[lo:hi])

    def has_types(self) -> bool:
        return bool(self.types.size) and not bool((self.types == DEFAULT_TYPE).all())

    def has_values(self) -> bool:
        return bool(np.isfinite(self.values).any())


def from_table(table: Any, live_rows: list[tuple[str, str, str, float | None, float]] | None = None) -> Histories:
    """The interactions table (normalised Parquet columns) plus live ``(user, item, type, value, ts)`` rows."""
    names = set(table.column_names)
    users = table.column("user_id").to_pylist()
    items = table.column("item_id").to_pylist()
    ts = table.column("timestamp").to_pylist()
    types = table.column("event").to_pylist() if "event" in names else [None] * len(users)
    value_column = "rating" if "rating" in names else ("weight" if "weight" in names else None)
    values = table.column(value_column).to_pylist() if value_column else [None] * len(users)
    for user, item, kind, value, stamp in live_rows or []:
        users.append(user)
        items.append(item)
        types.append(kind)
        values.append(value)
        ts.append(int(stamp))
    keep = [i for i, stamp in enumerate(ts) if stamp is not None]
    return Histories.from_columns(
        [users[i] for i in keep], [items[i] for i in keep], [ts[i] for i in keep],
        [types[i] or DEFAULT_TYPE for i in keep], [np.nan if values[i] is None else values[i] for i in keep])
