"""Types for columns the kind does not declare (extras, the tabular target), fixed on the first batch.

The normalised file has one schema, written batch by batch, so an undeclared column's type is
chosen from the first batch: native Parquet/JSON types are kept; text that is all numbers becomes
float64, unless it looks like a code (``0114709``: leading zeros) or the column is named like an
id (``imdbId``), which stay text. A later value that does not fit is a bad row, reported as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from limelight.datasets.ingest.convert import (
    FLOAT_RE,
    NULL_WORDS,
    Flags,
    flag,
    is_text,
    to_bool,
    to_float,
    to_int,
    to_string_list,
    to_text,
)
from limelight.datasets.ingest.kinds import column_key
from limelight.datasets.ingest.problems import Reason

Converter = Callable[[pa.Array], tuple[pa.Array, Flags]]
LEADING_ZERO_RE = r"^[+-]?0\d"


@dataclass(frozen=True)
class Inferred:
    arrow_type: pa.DataType
    convert: Converter


def infer_column(name: str, raw: pa.Array, *, required: bool) -> Inferred:
    t = raw.type
    if pa.types.is_list(t):
        return Inferred(pa.list_(pa.string()), _required(to_string_list, required))
    if pa.types.is_boolean(t):
        return Inferred(pa.bool_(), _required(to_bool, required))
    if pa.types.is_integer(t):
        return Inferred(pa.int64(), _required(lambda a: to_int(a, min_value=None), required))
    if pa.types.is_floating(t):
        return Inferred(pa.float64(), _required(lambda a: to_float(a, min_value=None, lenient=True), required))
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return Inferred(t, _required(lambda a: _same_type(a, t), required))
    if is_text(t) and _numeric_text(name, raw):
        return Inferred(pa.float64(), _required(lambda a: to_float(a, min_value=None, lenient=True), required))
    return Inferred(pa.string(), _required(lambda a: to_text(a, required=False), required))


def _numeric_text(name: str, raw: pa.Array) -> bool:
    if column_key(name).endswith("id"):
        return False
    text = pc.utf8_trim_whitespace(raw)
    text = pc.if_else(pc.is_in(pc.utf8_lower(text), value_set=pa.array(["", *NULL_WORDS])), None, text)
    values = text.drop_null()
    if len(values) == 0:
        return False
    numbers = pc.all(pc.match_substring_regex(values, FLOAT_RE)).as_py()
    codes = pc.any(pc.match_substring_regex(values, LEADING_ZERO_RE)).as_py()
    return bool(numbers and not codes)


def _same_type(raw: pa.Array, t: pa.DataType) -> tuple[pa.Array, Flags]:
    if raw.type == t:
        return raw, []
    if pa.types.is_null(raw.type):
        return pa.nulls(len(raw), t), []
    try:
        return raw.cast(t), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.nulls(len(raw), t), [(flag(pc.is_valid(raw)), Reason.BAD_TIMESTAMP)]


def _required(convert: Converter, required: bool) -> Converter:
    if not required:
        return convert

    def checked(raw: pa.Array) -> tuple[pa.Array, Flags]:
        values, flags = convert(raw)
        missing = flag(pc.is_null(values))
        for mask, _ in flags:  # a value already refused is not also "missing"
            missing = missing & ~mask
        return values, [*flags, (missing, Reason.MISSING_VALUE)]

    return checked
