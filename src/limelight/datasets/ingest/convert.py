"""Column converters: a raw column (any reader's type) → its canonical type, plus bad-row masks.

Each converter returns the converted array and a list of ``(mask, reason)``: the rows where the
value is unacceptable. Everything is vectorised with ``pyarrow.compute``; a bad value never
raises, it marks its row. Text from CSV is trimmed, and an empty text is a missing value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from limelight.datasets.ingest.problems import Reason

Flags = list[tuple[np.ndarray, str]]

FLOAT_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
INT_RE = r"^[+-]?\d{1,18}$"
NAN_RE = r"(?i)^[+-]?nan$"
INF_RE = r"(?i)^[+-]?inf(inity)?$"
FLOAT32_MAX = float(np.finfo(np.float32).max)


def flag(mask: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """A boolean Arrow result as a numpy mask, null counting as False."""
    if isinstance(mask, np.ndarray):
        return mask
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def is_number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def blank_text(text: pa.Array) -> pa.Array:
    """Text with empty strings made null (CSV cannot tell an empty value from a missing one)."""
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, pa.string()), text)


def trimmed(raw: pa.Array) -> pa.Array:
    return blank_text(pc.utf8_trim_whitespace(raw))


def present(raw: pa.Array) -> np.ndarray:
    return ~flag(pc.is_null(raw))


def _nested(raw: pa.Array) -> Flags:
    return [(present(raw), Reason.NESTED_VALUE)]


def to_id(raw: pa.Array) -> tuple[pa.Array, Flags]:
    """Ids are text; integers (Parquet, JSON) become their decimal text, as ``1`` does in a CSV."""
    t = raw.type
    if is_text(t):
        out = trimmed(raw)
        return out, [(flag(pc.is_null(out)), Reason.EMPTY_ID)]
    if pa.types.is_integer(t):
        return raw.cast(pa.string()), [(flag(pc.is_null(raw)), Reason.EMPTY_ID)]
    if pa.types.is_floating(t):
        whole = pc.and_(pc.is_finite(raw), pc.equal(pc.floor(raw), raw))
        out = pc.if_else(whole, raw, None).cast(pa.int64()).cast(pa.string())
        return out, [(flag(pc.is_null(raw)), Reason.EMPTY_ID), (flag(pc.invert(whole)), Reason.BAD_ID)]
    empty = flag(pc.is_null(raw))
    return pa.nulls(len(raw), pa.string()), [(empty, Reason.EMPTY_ID), (~empty, Reason.BAD_ID)]


def to_text(raw: pa.Array, *, required: bool, trim: bool = False) -> tuple[pa.Array, Flags]:
    t = raw.type
    if pa.types.is_list(t) or pa.types.is_nested(t):
        return pa.nulls(len(raw), pa.string()), _nested(raw)
    if is_text(t):
        out = trimmed(raw) if trim else blank_text(raw)
    elif pa.types.is_null(t):
        out = pa.nulls(len(raw), pa.string())
    else:
        out = raw.cast(pa.string())
    flags: Flags = []
    if required:
        flags.append((flag(pc.is_null(trimmed(out) if not trim else out)), Reason.MISSING_VALUE))
    return out, flags


def to_float(raw: pa.Array, *, min_value: float | None, lenient: bool = False) -> tuple[pa.Array, Flags]:
    """A float64 array; NaN, ±inf and (with ``min_value``) smaller values are refused.

    ``lenient`` (inferred columns) reads NaN and the usual null words (``NA``, ``null``…) as
    missing and lets infinities through, since nothing downstream depends on such columns.
    """
    t = raw.type
    flags: Flags = []
    if lenient:
        values, flags = to_float(_null_words_removed(raw) if is_text(t) else raw, min_value=min_value)
        values = pc.if_else(pc.is_nan(values), None, values)
        return values, [(m, r) for m, r in flags if r not in (Reason.NAN, Reason.INFINITE)]
    if is_text(t):
        text = trimmed(raw)
        good = pc.match_substring_regex(text, FLOAT_RE)
        values = pc.if_else(good, text, None).cast(pa.float64())
        if pc.all(good).as_py() is False:  # some value is not a plain number: say what it is
            is_nan, is_inf = pc.match_substring_regex(text, NAN_RE), pc.match_substring_regex(text, INF_RE)
            flags += [(flag(is_nan), Reason.NAN), (flag(is_inf), Reason.INFINITE)]
            odd = pc.and_(pc.invert(pc.or_(good, pc.or_(is_nan, is_inf))), pc.is_valid(text))
            flags.append((flag(odd), Reason.NOT_A_NUMBER))
    elif is_number(t):
        values = raw.cast(pa.float64())
        flags += [(flag(pc.is_nan(values)), Reason.NAN), (flag(pc.is_inf(values)), Reason.INFINITE)]
    elif pa.types.is_null(t):
        values = pa.nulls(len(raw), pa.float64())
    else:
        return pa.nulls(len(raw), pa.float64()), [(present(raw), Reason.NOT_A_NUMBER)]
    if min_value is not None:
        flags.append((flag(pc.less(values, min_value)), Reason.NEGATIVE))
    return values, flags


NULL_WORDS = ("na", "n/a", "nan", "null", "none", "nil")


def _null_words_removed(raw: pa.Array) -> pa.Array:
    text = trimmed(raw)
    return pc.if_else(pc.is_in(pc.utf8_lower(text), value_set=pa.array(NULL_WORDS)), None, text)


def to_float32(raw: pa.Array, *, min_value: float | None) -> tuple[pa.Array, Flags]:
    values, flags = to_float(raw, min_value=min_value)
    finite = pc.if_else(pc.is_finite(values), values, None)
    flags.append((flag(pc.greater(pc.abs(finite), FLOAT32_MAX)), Reason.OUT_OF_RANGE))
    return pc.cast(finite, pa.float32(), safe=False), flags


def to_int(raw: pa.Array, *, min_value: float | None) -> tuple[pa.Array, Flags]:
    t = raw.type
    flags: Flags = []
    if is_text(t):
        text = trimmed(raw)
        good = pc.match_substring_regex(text, INT_RE)
        flags.append((flag(pc.and_(pc.invert(good), pc.is_valid(text))), Reason.NOT_AN_INTEGER))
        values = pc.if_else(good, text, None).cast(pa.int64())
    elif pa.types.is_integer(t):
        too_big = pc.greater(raw, 2**63 - 1) if pa.types.is_uint64(t) else pa.array([False] * len(raw))
        flags.append((flag(too_big), Reason.NOT_AN_INTEGER))
        values = pc.if_else(too_big, None, raw).cast(pa.int64())
    elif pa.types.is_floating(t):
        whole = pc.and_(pc.is_finite(raw), pc.equal(pc.floor(raw), raw))
        whole = pc.and_(whole, pc.less(pc.abs(raw), 2.0**63))
        flags.append((flag(pc.and_(pc.invert(whole), pc.is_valid(raw))), Reason.NOT_AN_INTEGER))
        values = pc.if_else(whole, raw, None).cast(pa.int64())
    elif pa.types.is_null(t):
        values = pa.nulls(len(raw), pa.int64())
    else:
        return pa.nulls(len(raw), pa.int64()), [(present(raw), Reason.NOT_AN_INTEGER)]
    if min_value is not None:
        flags.append((flag(pc.less(values, min_value)), Reason.NEGATIVE))
    return values, flags


def to_bool(raw: pa.Array) -> tuple[pa.Array, Flags]:
    t = raw.type
    if pa.types.is_boolean(t):
        return raw, []
    if is_text(t):
        text = pc.utf8_lower(trimmed(raw))
        truthy = pc.is_in(text, value_set=pa.array(["true", "1", "yes"]))
        falsy = pc.is_in(text, value_set=pa.array(["false", "0", "no"]))
        odd = pc.and_(pc.is_valid(text), pc.invert(pc.or_(truthy, falsy)))
        return pc.if_else(pc.or_(truthy, falsy), truthy, None), [(flag(odd), Reason.NOT_A_BOOLEAN)]
    if pa.types.is_null(t):
        return pa.nulls(len(raw), pa.bool_()), []
    return pa.nulls(len(raw), pa.bool_()), [(present(raw), Reason.NOT_A_BOOLEAN)]


def to_string_list(raw: pa.Array) -> tuple[pa.Array, Flags]:
    """``"Action|Comedy"`` or ``"Action, Comedy"`` (``|`` wins when both occur) or a list → list<string>."""
    t = raw.type
    if pa.types.is_list(t):
        lists = raw.cast(pa.list_(pa.string()))
    elif is_text(t) or pa.types.is_null(t):
        text = trimmed(raw.cast(pa.string()))
        by_bar = pc.split_pattern(text, "|")
        lists = pc.if_else(pc.match_substring(text, "|"), by_bar, pc.split_pattern(text, ","))
    else:
        return pa.nulls(len(raw), pa.list_(pa.string())), _nested(raw)
    return _clean_lists(lists), []


def _clean_lists(lists: pa.Array) -> pa.Array:
    """Elements trimmed, empty elements dropped; a null list stays null."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lists = lists.cast(pa.list_(pa.string()))
    # .offsets and .values both index the unsliced child array, so they line up even for slices.
    items = pc.utf8_trim_whitespace(lists.values)
    keep = flag(pc.greater(pc.utf8_length(items), 0))
    offsets = lists.offsets.to_numpy()
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int32)))
    new_offsets = pa.array(kept_before[offsets], pa.int32())
    return pa.ListArray.from_arrays(new_offsets, items.filter(pa.array(keep)), mask=pc.is_null(lists))
