"""Item metadata travelling with a recommender: titles and the columns requests may filter on.

A training job reads the ``items`` dataset, keeps the metadata of the items the model knows
(aligned with ``TrainedRecommender.item_ids``) and stores it in the artifact's JSON metadata; the
serving runtime rebuilds a ``Catalog`` from it and turns request filters into a candidate mask:

    {"genres": ["Drama", "Comedy"]}       any of these values (list columns) or equal (scalars)
    {"year": {"min": 1990, "max": 1999}}  a numeric range, both ends optional and inclusive
    {"exclude_item_ids": ["i1", "i2"]}    never these items

A filter on a column the catalog lacks is a 422 naming ``filters.<column>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from limelight.errors import ValidationFailed

# Long free text is kept out of the artifact; it is not something to filter on.
SKIPPED_COLUMNS = frozenset({"item_id", "description", "text", "overview", "plot"})
MAX_FILTER_VALUES = 1000
RESERVED_FILTERS = ("item_ids", "exclude_item_ids")


class Catalog:
    """Per-item titles and metadata columns, aligned with a model's sorted item ids."""

    def __init__(self, item_ids: np.ndarray, titles: Sequence[str] | None, columns: Mapping[str, Sequence[Any]]):
        self.item_ids = item_ids
        self.titles = list(titles) if titles is not None else None
        self.columns = {name: list(values) for name, values in columns.items()}
        self._numeric: dict[str, np.ndarray] = {}
        self._postings: dict[str, dict[str, np.ndarray]] = {}

    # ---- building (training side) --------------------------------------------------------------

    @classmethod
    def from_table(cls, item_ids: np.ndarray, table: Any) -> Catalog:
        """From an ``items`` Arrow table (item_id, title, genres, year, extra columns)."""
        rows = {str(i): n for n, i in enumerate(table.column("item_id").to_pylist())}
        order = [rows.get(str(i)) for i in item_ids.tolist()]
        columns = {}
        for name in table.column_names:
            if name in SKIPPED_COLUMNS or name == "title":
                continue
            values = table.column(name).to_pylist()
            columns[name] = [values[n] if n is not None else None for n in order]
        titles = None
        if "title" in table.column_names:
            raw = table.column("title").to_pylist()
            titles = [str(raw[n]) if n is not None and raw[n] is not None else "" for n in order]
        return cls(item_ids, titles, columns)

    def to_metadata(self) -> dict[str, Any]:
        return {"columns": self.columns}

    @classmethod
    def from_metadata(cls, item_ids: np.ndarray, titles: np.ndarray | None, meta: Mapping[str, Any] | None) -> Catalog:
        columns = dict((meta or {}).get("columns", {}))
        for name, values in columns.items():
            if len(values) != item_ids.shape[0]:
                raise ValidationFailed(f"catalog column {name!r} does not align with the model's items")
        return cls(item_ids, titles.tolist() if titles is not None else None, columns)

    # ---- serving side ---------------------------------------------------------------------------

    def describe(self, index: int) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if self.titles is not None and self.titles[index]:
            entry["title"] = self.titles[index]
        for name in ("genres", "year"):
            if name in self.columns and self.columns[name][index] is not None:
                entry[name] = self.columns[name][index]
        return entry

    def candidate_mask(self, filters: Mapping[str, Any]) -> np.ndarray | None:
        """A boolean mask over the model's items, or None when no metadata filter was given."""
        mask: np.ndarray | None = None
        for name, wanted in filters.items():
            if name in RESERVED_FILTERS:
                continue
            if name not in self.columns:
                raise ValidationFailed(f"The catalog has no column {name!r} to filter on.",
                                       details={"field": f"filters.{name}", "columns": sorted(self.columns)})
            current = self._match(name, wanted)
            mask = current if mask is None else mask & current
        return mask

    def _match(self, name: str, wanted: Any) -> np.ndarray:
        if isinstance(wanted, Mapping):
            return self._range(name, wanted)
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or len(values) > MAX_FILTER_VALUES or not all(isinstance(v, str | int | float) for v in values):
            raise ValidationFailed(f"filters.{name} takes a value, a list of 1..{MAX_FILTER_VALUES} values, "
                                   "or {\"min\", \"max\"}", details={"field": f"filters.{name}"})
        postings = self._postings_of(name)
        mask = np.zeros(self.item_ids.shape[0], bool)
        for value in values:
            hit = postings.get(_key(value))
            if hit is not None:
                mask[hit] = True
        return mask

    def _range(self, name: str, bounds: Mapping[str, Any]) -> np.ndarray:
        if set(bounds) - {"min", "max"} or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                                   for v in bounds.values()):
            raise ValidationFailed(f"filters.{name} range takes numeric 'min' and/or 'max'",
                                   details={"field": f"filters.{name}"})
        column = self._numeric_of(name)
        mask = ~np.isnan(column)
        if "min" in bounds:
            mask &= column >= float(bounds["min"])
        if "max" in bounds:
            mask &= column <= float(bounds["max"])
        return mask

    def _numeric_of(self, name: str) -> np.ndarray:
        if name not in self._numeric:
            try:
                self._numeric[name] = np.array([np.nan if v is None else float(v) for v in self.columns[name]])
            except (TypeError, ValueError) as exc:
                raise ValidationFailed(f"filters.{name} is not numeric; filter it by value",
                                       details={"field": f"filters.{name}"}) from exc
        return self._numeric[name]

    def _postings_of(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._postings:
            lists: dict[str, list[int]] = {}
            for index, value in enumerate(self.columns[name]):
                for single in value if isinstance(value, list) else [value]:
                    if single is not None:
                        lists.setdefault(_key(single), []).append(index)
            self._postings[name] = {k: np.array(v, np.int64) for k, v in lists.items()}
        return self._postings[name]


def _key(value: Any) -> str:
    """Case-insensitive text keys; 1990 and 1990.0 match."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).casefold()
