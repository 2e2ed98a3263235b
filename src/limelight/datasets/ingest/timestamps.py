"""Timestamps → int64 epoch seconds (UTC), from numbers, ISO-8601 text, or Parquet temporal types.

ISO text without an offset is taken as UTC. Arrow parses ISO-8601 vectorised, but fails a
whole array on one bad value, so values are screened by a regex first, and a batch Arrow
still refuses (a 31st of February) falls back to Python's parser value by value.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from limelight.datasets.ingest.convert import Flags, flag, is_text, present, trimmed
from limelight.datasets.ingest.kinds import TIMESTAMP_MAX_S
from limelight.datasets.ingest.problems import Reason

EPOCH_RE = r"^[+-]?\d{1,15}(\.\d*)?$"
ISO_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"
ZONE_RE = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_NAIVE_FILL = "1970-01-01T00:00:00"
_ZONED_FILL = "1970-01-01T00:00:00Z"
US_PER_S = 1_000_000


def to_epoch_seconds(raw: pa.Array) -> tuple[pa.Array, Flags]:
    t = raw.type
    if is_text(t):
        seconds, flags = _from_text(trimmed(raw))
    elif pa.types.is_integer(t):
        seconds, flags = raw.cast(pa.int64(), safe=False), []
    elif pa.types.is_floating(t):
        ok = pc.is_finite(raw)
        seconds = pc.floor(pc.if_else(ok, raw, None)).cast(pa.int64(), safe=False)
        flags = [(flag(pc.and_(pc.is_valid(raw), pc.invert(ok))), Reason.BAD_TIMESTAMP)]
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        # Seconds since the epoch are the same for any zone: Arrow stores instants in UTC.
        seconds = pc.cast(raw, pa.timestamp("s", tz=getattr(t, "tz", None)), safe=False).cast(pa.int64())
        flags = []
    elif pa.types.is_null(t):
        return pa.nulls(len(raw), pa.int64()), []
    else:
        return pa.nulls(len(raw), pa.int64()), [(present(raw), Reason.BAD_TIMESTAMP)]
    out_of_range = pc.or_(pc.less(seconds, 0), pc.greater_equal(seconds, TIMESTAMP_MAX_S))
    flags.append((flag(out_of_range), Reason.TIMESTAMP_RANGE))
    return seconds, flags


def _from_text(text: pa.Array) -> tuple[pa.Array, Flags]:
    epoch = pc.match_substring_regex(text, EPOCH_RE)
    iso = pc.match_substring_regex(text, ISO_RE)
    bad = pc.and_(pc.is_valid(text), pc.invert(pc.or_(epoch, iso)))
    from_epoch = pc.floor(pc.if_else(epoch, text, None).cast(pa.float64()))
    if pc.any(iso).as_py():
        from_iso, unparsed = _iso_seconds(pc.if_else(iso, text, None))
    else:  # the common all-epoch file skips the ISO parse
        from_iso, unparsed = pa.nulls(len(text), pa.int64()), np.zeros(len(text), dtype=bool)
    seconds = pc.if_else(epoch, from_epoch.cast(pa.int64(), safe=False), from_iso)
    return seconds, [(flag(bad) | unparsed, Reason.BAD_TIMESTAMP)]


def _iso_seconds(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Seconds for each non-null ISO string, and the rows no parser accepted."""
    zoned = pc.match_substring_regex(text, ZONE_RE)
    try:
        naive_us = pc.if_else(zoned, _NAIVE_FILL, pc.fill_null(text, _NAIVE_FILL)).cast(pa.timestamp("us"))
        zoned_us = pc.if_else(zoned, text, _ZONED_FILL).cast(pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        return _iso_seconds_slowly(text)
    micros = pc.if_else(zoned, zoned_us.cast(pa.int64()), naive_us.cast(pa.int64()))
    micros = pc.if_else(pc.is_null(text), None, micros)
    seconds = pc.floor(pc.divide(micros.cast(pa.float64()), float(US_PER_S))).cast(pa.int64())
    return seconds, np.zeros(len(text), dtype=bool)


def _iso_seconds_slowly(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    values: list[int | None] = []
    unparsed = np.zeros(len(text), dtype=bool)
    for i, value in enumerate(text.to_pylist()):
        if value is None:
            values.append(None)
            continue
        try:
            moment = datetime.fromisoformat(value.replace(",", "."))
        except ValueError:
            values.append(None)
            unparsed[i] = True
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        values.append(int(moment.timestamp() // 1))
    return pa.array(values, pa.int64()), unparsed
