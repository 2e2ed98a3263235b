"""User x item interaction matrices with stable string id maps.

Ids are mapped to rows/columns by sorted order (``np.unique``), so the same set of ids always gives the
same indices whatever order the events arrived in, and a lookup is a binary search (no dict to build).
Repeated (user, item) events are summed into one cell; the cell keeps the latest timestamp. Cells whose
weights sum to exactly zero (a view then a skip) are dropped: they carry no signal either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from limelight.errors import InvalidParams

__all__ = [
    "EVENT_TYPES",
    "EventWeights",
    "Interactions",
    "build_interactions",
    "index_of",
    "interactions_from_records",
]

EVENT_TYPES = ("view", "play", "complete", "click", "rate", "purchase", "skip")


@dataclass(frozen=True)
class EventWeights:
    """How much one event of each type says about a user liking an item.

    ``rate`` multiplies the rating value (a 4-star rating weighs ``4 * rate``); every other type ignores
    the event value. ``skip`` is negative on purpose: ALS reads negative cells as confident dislikes and
    the neighbourhood models subtract the skipped item's neighbours.
    """

    view: float = 1.0
    play: float = 2.0
    complete: float = 4.0
    click: float = 0.5
    rate: float = 1.0
    purchase: float = 5.0
    skip: float = -1.0

    def weight(self, event_type: str, value: float | None = None) -> float:
        if event_type not in EVENT_TYPES:
            raise InvalidParams(f"unknown event type {event_type!r}", details={"allowed": list(EVENT_TYPES)})
        base = float(getattr(self, event_type))
        if event_type == "rate":
            if value is None:
                raise InvalidParams("a 'rate' event needs a value (the rating)")
            return base * float(value)
        return base

    def weights(
        self, event_types: Sequence[str], values: Sequence[float | None] | ArrayLike | None = None
    ) -> np.ndarray:
        """Vectorised :meth:`weight` for columns of event types and values (None for "no value")."""
        types = np.asarray(event_types, dtype=str)
        unknown = np.setdiff1d(np.unique(types), EVENT_TYPES)
        if unknown.size:
            raise InvalidParams("unknown event types", details={"unknown": unknown[:10].tolist()})
        out = np.zeros(types.shape[0], dtype=np.float32)
        for name in EVENT_TYPES:
            out[types == name] = getattr(self, name)
        is_rate = types == "rate"
        if is_rate.any():
            vals = (
                np.asarray(values, dtype=np.float64) if values is not None else np.full(types.shape, np.nan)
            )
            if np.isnan(vals[is_rate]).any():
                raise InvalidParams("every 'rate' event needs a value (the rating)")
            out[is_rate] = self.rate * vals[is_rate]
        return out


@dataclass(frozen=True)
class Interactions:
    """A users x items CSR matrix (float32, summed weights) and the ids of its rows and columns.

    ``timestamps`` (int64 seconds, or None) is aligned with ``matrix.data``: the latest event of the cell.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamps: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.matrix.shape[1])

    def user_index(self, user_id: str) -> int | None:
        return index_of(self.user_ids, user_id)

    def item_index(self, item_id: str) -> int | None:
        return index_of(self.item_ids, item_id)


def index_of(sorted_ids: np.ndarray, key: str) -> int | None:
    """Position of ``key`` in a sorted unicode array, or None when absent."""
    pos = int(np.searchsorted(sorted_ids, key))
    if pos < sorted_ids.shape[0] and sorted_ids[pos] == key:
        return pos
    return None


def _as_str_array(values: ArrayLike, field: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "O":
        if any(not isinstance(v, str) for v in arr.tolist()):
            raise InvalidParams(f"every {field} must be a string")
        arr = arr.astype(str)
    elif arr.dtype.kind != "U":
        arr = arr.astype(str)
    return arr


def build_interactions(
    user_ids: ArrayLike,
    item_ids: ArrayLike,
    weights: ArrayLike | None = None,
    timestamps: ArrayLike | None = None,
    *,
    item_catalog: ArrayLike | None = None,
) -> Interactions:
    """Build the matrix from parallel columns. ``weights`` defaults to 1 per event.

    ``item_catalog`` adds items nobody interacted with yet, so they have a column (they can then be
    candidates, carry titles, and score by popularity/neighbourhood like any cold item).
    """
    users = _as_str_array(user_ids, "user_id")
    items = _as_str_array(item_ids, "item_id")
    n = users.shape[0]
    if items.shape[0] != n:
        raise InvalidParams("user_ids and item_ids differ in length")
    w = np.ones(n, np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
    if w.shape[0] != n or not np.isfinite(w).all():
        raise InvalidParams("weights must be finite and one per event")
    user_vocab, rows = np.unique(users, return_inverse=True)
    vocab_items = (
        items if item_catalog is None else np.concatenate([items, _as_str_array(item_catalog, "item_id")])
    )
    item_vocab, cols_all = np.unique(vocab_items, return_inverse=True)
    cols = cols_all[:n]
    ts = None if timestamps is None else np.asarray(timestamps, dtype=np.int64)
    if ts is not None and ts.shape[0] != n:
        raise InvalidParams("timestamps must be one per event")
    matrix, cell_ts = _sum_cells(rows, cols, w, ts, (user_vocab.shape[0], item_vocab.shape[0]))
    return Interactions(matrix=matrix, user_ids=user_vocab, item_ids=item_vocab, timestamps=cell_ts)


def _sum_cells(
    rows: np.ndarray, cols: np.ndarray, w: np.ndarray, ts: np.ndarray | None, shape: tuple[int, int]
) -> tuple[sp.csr_matrix, np.ndarray | None]:
    if rows.size == 0:
        empty = sp.csr_matrix(shape, dtype=np.float32)
        return empty, (None if ts is None else np.zeros(0, np.int64))
    # Sort events by cell so duplicates are adjacent, then reduce each run in one pass.
    cell = rows.astype(np.int64) * shape[1] + cols
    order = np.argsort(cell, kind="stable")
    cell_sorted = cell[order]
    starts = np.flatnonzero(np.r_[True, cell_sorted[1:] != cell_sorted[:-1]])
    data = np.add.reduceat(w[order], starts)
    keep = data != 0
    r, c = np.divmod(cell_sorted[starts][keep], shape[1])
    indptr = np.zeros(shape[0] + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
    matrix = sp.csr_matrix((data[keep].astype(np.float32), c.astype(np.int32), indptr), shape=shape)
    cell_ts = None if ts is None else np.maximum.reduceat(ts[order], starts)[keep]
    return matrix, cell_ts


def interactions_from_records(
    records: Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    event_weights: EventWeights | None = None,
    item_catalog: ArrayLike | None = None,
) -> Interactions:
    """Build from records: tuples ``(user_id, item_id, weight, timestamp|None)`` or mappings.

    A mapping has ``user_id``, ``item_id`` and either ``weight`` or ``type`` (+ ``value`` for ratings),
    mapped through ``event_weights``; ``timestamp`` is optional. Missing timestamps count as 0 (oldest).
    """
    ew = event_weights or EventWeights()
    users: list[str] = []
    items: list[str] = []
    weights: list[float] = []
    stamps: list[int | None] = []
    for rec in records:
        if isinstance(rec, Mapping):
            w = rec.get("weight")
            weight = float(w) if w is not None else ew.weight(str(rec.get("type")), rec.get("value"))
            users.append(rec["user_id"])
            items.append(rec["item_id"])
            stamps.append(rec.get("timestamp"))
        else:
            user, item, weight, stamp = (list(rec) + [None])[:4]
            users.append(user)
            items.append(item)
            stamps.append(stamp)
        weights.append(float(weight))
    has_ts = any(s is not None for s in stamps)
    ts = np.array([0 if s is None else int(s) for s in stamps], np.int64) if has_ts else None
    return build_interactions(
        np.array(users, dtype=object), np.array(items, dtype=object), weights, ts, item_catalog=item_catalog
    )
