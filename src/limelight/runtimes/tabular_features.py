"""The feature columns of a tabular model: which columns are used, how, and how a row is encoded.

Numbers and booleans are used as they are; text columns become LightGBM categoricals, coded by
their position in a category list that is stored with the version (``FeatureSpec.to_params``), so
serving encodes a value exactly as training did. A category never seen in training, and a missing
value, are coded as missing (LightGBM's own handling of unknowns), never as an error; a number may
be missing only if it was in training (otherwise LightGBM would read it as 0). Columns that
cannot help (an identifier with a distinct value per row, a constant, too many categories) are
left out with the reason, never silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from limelight.errors import InvalidParams, ValidationFailed

MAX_CATEGORIES = 1_000
_ID_LIKE_MIN_ROWS = 50


@dataclass(frozen=True)
class Feature:
    name: str
    categories: tuple[str, ...] | None = None  # None: numeric
    # LightGBM learns where missing numbers go only if training had some; else it reads them as 0
    allows_missing: bool = True

    @property
    def categorical(self) -> bool:
        return self.categories is not None


@dataclass(frozen=True)
class FeatureSpec:
    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def categorical_names(self) -> list[str]:
        return [f.name for f in self.features if f.categorical]

    def named_row(self, row: Any) -> dict[str, Any] | None:
        """One encoded row as the named object ``:predict`` takes (categories by label); None if it has gaps."""
        named: dict[str, Any] = {}
        for feature, value in zip(self.features, row, strict=True):
            if value != value:  # NaN: JSON has no such number, and an example should be complete
                return None
            named[feature.name] = feature.categories[int(value)] if feature.categories is not None else float(value)
        return named

    def to_params(self) -> list[dict[str, Any]]:
        return [{"name": f.name, **({"categories": list(f.categories)} if f.categories is not None else {}),
                 **({} if f.allows_missing else {"missing": False})}
                for f in self.features]

    @classmethod
    def from_params(cls, value: Any) -> FeatureSpec:
        if not isinstance(value, list) or not value:
            raise InvalidParams("params.features must be a non-empty list", details={"field": "params.features"})
        features = []
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise InvalidParams("each of params.features needs a name", details={"field": "params.features"})
            categories = entry.get("categories")
            if categories is not None and not (isinstance(categories, list)
                                               and all(isinstance(c, str) for c in categories)):
                raise InvalidParams(f"categories of {entry['name']!r} must be a list of strings",
                                    details={"field": "params.features"})
            # versions stored before "missing" was recorded allowed it everywhere
            features.append(Feature(entry["name"], tuple(categories) if categories is not None else None,
                                    allows_missing=entry.get("missing", True) is not False))
        return cls(tuple(features))

    def encode(self, item: Any) -> list[float]:
        """One row for the booster: a ``{name: value}`` object, or values in feature order."""
        if isinstance(item, dict):
            return self._encode_named(item)
        if isinstance(item, list | tuple):
            if len(item) != len(self.features):
                raise ValidationFailed(f"features must be a list of {len(self.features)} values in the order "
                                       f"{self.names}, or an object of them by name",
                                       details={"field": "features", "expected": self.names})
            return self._encode_values(list(zip(self.features, item, strict=True)))
        raise ValidationFailed("each input must be an object of features by name (or a list of values)",
                               details={"field": "features", "expected": self.names})

    def _encode_named(self, item: dict[str, Any]) -> list[float]:
        known = set(self.names)
        problems = [{"field": name, "reason": "unknown_feature"} for name in item if name not in known]
        problems += [{"field": name, "reason": "missing_feature"} for name in self.names if name not in item]
        if problems:
            raise ValidationFailed(_summary(problems), details={"field": problems[0]["field"], "problems": problems,
                                                                "expected": self.names})
        return self._encode_values([(f, item[f.name]) for f in self.features])

    def _encode_values(self, pairs: list[tuple[Feature, Any]]) -> list[float]:
        row, problems = [], []
        for feature, value in pairs:
            try:
                row.append(_code(feature, value))
            except ValueError as exc:
                problems.append({"field": feature.name, "reason": str(exc)})
        if problems:
            raise ValidationFailed(_summary(problems), details={"field": problems[0]["field"], "problems": problems})
        return row


def _code(feature: Feature, value: Any) -> float:
    if value is None:
        if not feature.allows_missing:
            raise ValueError("missing_value")
        return math.nan  # missing: LightGBM's own handling
    if feature.categories is not None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("expected_text")
        text = value if isinstance(value, str) else _number_text(value)
        try:
            return float(feature.categories.index(text))
        except ValueError:
            return math.nan  # a category training never saw: treated as missing, not refused
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("expected_number")
    return float(value)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _summary(problems: list[dict[str, str]]) -> str:
    words = {"unknown_feature": "unknown feature", "missing_feature": "missing feature",
             "expected_number": "expects a number", "expected_text": "expects text",
             "missing_value": "needs a value (training had none missing)"}
    return "; ".join(f"{p['field']}: {words.get(p['reason'], p['reason'])}" for p in problems[:10])


def spec_from_table(table: Any, target: str) -> tuple[FeatureSpec, np.ndarray, list[dict[str, str]]]:
    """The usable feature columns of ``table`` (all but ``target``), the encoded matrix, and the
    columns left out with why."""
    import pyarrow.types as t

    features: list[Feature] = []
    columns: list[np.ndarray] = []
    left_out: list[dict[str, str]] = []
    rows = table.num_rows
    for name in table.column_names:
        if name == target:
            continue
        column = table.column(name)
        if t.is_integer(column.type) or t.is_floating(column.type) or t.is_boolean(column.type):
            values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
            finite = values[np.isfinite(values)]
            if finite.size == 0 or finite.min() == finite.max():
                left_out.append({"column": name, "reason": "constant: the same value in every row"})
                continue
            features.append(Feature(name, allows_missing=bool(np.isnan(values).any())))
            columns.append(values)
        elif t.is_string(column.type) or t.is_large_string(column.type) or t.is_dictionary(column.type):
            texts = [None if v is None else str(v) for v in column.to_pylist()]
            present = [v for v in texts if v is not None]
            distinct = sorted(set(present))
            reason = _categorical_refusal(len(distinct), len(present), rows)
            if reason:
                left_out.append({"column": name, "reason": reason})
                continue
            feature = Feature(name, tuple(distinct))
            features.append(feature)
            index = {v: float(i) for i, v in enumerate(distinct)}
            columns.append(np.array([math.nan if v is None else index[v] for v in texts], dtype=np.float64))
        else:
            left_out.append({"column": name, "reason": f"type {column.type} is neither a number nor text"})
    if not features:
        raise InvalidParams("The dataset has no usable feature columns.", details={"left_out": left_out})
    return FeatureSpec(tuple(features)), np.column_stack(columns), left_out


def _categorical_refusal(distinct: int, present: int, rows: int) -> str | None:
    if distinct <= 1:
        return "constant: the same value in every row"
    if rows >= _ID_LIKE_MIN_ROWS and distinct == present:
        return "an identifier: a different value in every row"
    if distinct > MAX_CATEGORIES:
        return f"{distinct} categories (more than {MAX_CATEGORIES})"
    return None
