"""The profile of a normalised dataset, computed batch by batch while it is written.

Per column: nulls, distinct values (exact for ids and labels, exact up to a limit elsewhere,
then HyperLogLog), min/max/mean of numbers, text lengths, list sizes, and the top values of
low-cardinality columns. Per kind: for ``interactions`` users, items, density
(rows / (users × items)) and interactions-per-user/-item quantiles; for ``labeled_text`` the
count of every label.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from limelight.datasets.ingest.normalize import OutputColumn, type_name
from limelight.datasets.ingest.options import IngestOptions
from limelight.datasets.ingest.sketch import DistinctCounter, ValueCounts, mix64

QUANTILES = {"p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9, "p99": 0.99}
LABELS_SHOWN = 1_000


class NumberRange:
    def __init__(self) -> None:
        self.low: Any = None
        self.high: Any = None
        self.total = 0.0
        self.count = 0

    def update(self, values: pa.Array) -> None:
        bounds = pc.min_max(values)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None:
            return
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        self.total += float(pc.sum(values.cast(pa.float64())).as_py() or 0.0)
        self.count += len(values) - values.null_count

    def result(self, suffix: str = "") -> dict[str, Any]:
        if self.low is None:
            return {}
        mean = self.total / self.count if self.count else None
        return {f"min{suffix}": self.low, f"max{suffix}": self.high, f"mean{suffix}": mean}


class ColumnStats:
    """``exact``: count every value however many (ids, labels); ``unique``: values are known
    distinct (ids checked for duplicates), so they are counted, not stored."""

    def __init__(self, arrow_type: pa.DataType, options: IngestOptions, *, exact: bool = False,
                 unique: bool = False) -> None:
        self.arrow_type = arrow_type
        self.options = options
        self.exact = exact
        self.unique = unique
        self.nulls = 0
        self.count = 0
        self.values: ValueCounts | None = None if unique else ValueCounts()
        self.distinct = DistinctCounter(options.exact_distinct_max)
        self.range = NumberRange()
        self.sizes = NumberRange()  # text lengths or list sizes
        self.elements: ColumnStats | None = None

    def update(self, values: pa.Array) -> None:
        self.nulls += values.null_count
        self.count += len(values) - values.null_count
        t = values.type
        if pa.types.is_list(t):
            self.sizes.update(pc.list_value_length(values))
            if self.elements is None:
                self.elements = ColumnStats(t.value_type, self.options)
            self.elements.update(pc.list_flatten(values))
            return
        if pa.types.is_string(t):
            self.sizes.update(pc.utf8_length(values))
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            self.range.update(values)
        if not self.unique:
            self._count_values(values)

    def _count_values(self, values: pa.Array) -> None:
        if self.values is not None:
            self.values.add(values)
            if not self.exact and self.values.distinct() > self.options.top_values_max_distinct:
                self.distinct.add_hashes(_hashes(self.values.table().column("value").combine_chunks()))
                self.values = None  # too many values for top values: keep only a distinct count
            return
        self.distinct.add_hashes(_hashes(pc.unique(values.drop_null())))

    def distinct_count(self) -> tuple[int, bool]:
        if self.unique:
            return self.count, True
        if self.values is not None:
            return self.values.distinct(), True
        return self.distinct.count(), self.distinct.exact

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type_name(self.arrow_type), "nulls": self.nulls}
        if pa.types.is_list(self.arrow_type):
            out.update(self.sizes.result("_items"))
            if self.elements is not None:
                out["elements"] = self.elements.result()
            return out
        out["distinct"], out["distinct_exact"] = self.distinct_count()
        out.update(self.range.result())
        out.update(self.sizes.result("_length"))
        if self.values is not None and out["distinct"] <= self.options.top_values_max_distinct:
            out["top"] = [{"value": v, "count": c} for v, c in self.values.top(self.options.top_values)]
        return out


def _hashes(values: pa.Array) -> np.ndarray:
    """64-bit hashes of distinct values: numbers by their bits (vectorised), text by Python's hash."""
    t = values.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        bits = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return mix64(np.ascontiguousarray(bits).view(np.uint64))
    return mix64(np.fromiter((hash(v) for v in values.to_pylist()), dtype=np.int64, count=len(values)))


class Profiler:
    def __init__(self, kind: str, columns: list[OutputColumn], options: IngestOptions) -> None:
        self.kind = kind
        self.rows = 0
        self._columns = columns
        self._stats = {
            c.name: ColumnStats(c.arrow_type, options, exact=c.spec is not None and c.spec.type in ("id", "label"),
                                unique=c.spec is not None and c.spec.unique)
            for c in columns
        }

    def update(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for column in self._columns:
            self._stats[column.name].update(batch.column(column.name))

    def result(self) -> dict[str, Any]:
        columns = {name: stats.result() for name, stats in self._stats.items()}
        for column in self._columns:
            entry = columns[column.name]
            if column.spec is not None and column.spec.type == "timestamp" and "min" in entry:
                entry.update(min_iso=_iso(entry["min"]), max_iso=_iso(entry["max"]))
        profile: dict[str, Any] = {"rows": self.rows, "columns": columns}
        if self.kind == "interactions":
            profile["interactions"] = self._interactions()
        if self.kind == "labeled_text":
            labels = self._counts("label")
            profile["labels"] = dict(labels.top(LABELS_SHOWN)) if labels else {}
            profile["label_count"] = labels.distinct() if labels else 0
        return json_safe(profile)

    def _counts(self, name: str) -> ValueCounts | None:
        return self._stats[name].values

    def _interactions(self) -> dict[str, Any]:
        users, items = self._counts("user_id"), self._counts("item_id")
        n_users = users.distinct() if users else 0
        n_items = items.distinct() if items else 0
        cells = n_users * n_items
        return {
            "users": n_users,
            "items": n_items,
            "density": self.rows / cells if cells else 0.0,
            "per_user": quantiles(users.counts()) if users else {},
            "per_item": quantiles(items.counts()) if items else {},
        }


def quantiles(counts: np.ndarray) -> dict[str, float]:
    if counts.size == 0:
        return {}
    values = counts.astype(np.float64)
    out = {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}
    out.update({name: float(np.quantile(values, q)) for name, q in QUANTILES.items()})
    return out


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def json_safe(value: Any) -> Any:
    """The profile as strict JSON values (it is stored in JSON columns that refuse NaN and ∞)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
