"""What every format reader yields: raw record batches with the file line of each row."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa

from limelight.datasets.ingest.problems import Problem


@dataclass
class RawBatch:
    """Rows as read, before validation.

    ``batch`` has the file's own column names and raw types (CSV: all strings); ``lines`` holds
    each row's 1-based line (CSV/JSONL: physical line including the header; Parquet: row
    number); ``problems`` are rows the reader could not turn into a row at all (malformed JSON,
    wrong number of CSV fields, JSON objects where a value belongs): they are not in ``batch``,
    and each line with a problem counts as one bad row.
    """

    batch: pa.RecordBatch
    lines: np.ndarray
    problems: list[Problem] = field(default_factory=list)


class RawReader(Protocol):
    format: str
    encoding: str | None
    delimiter: str | None
    warnings: list[str]

    def schema(self) -> pa.Schema:
        """The raw columns (names as in the file) every batch will have."""
        ...

    def batches(self) -> Iterator[RawBatch]: ...


def coalesced(batches: Iterator[RawBatch], max_rows: int, max_bytes: int) -> Iterator[RawBatch]:
    """Merges consecutive small batches, so that per-batch work is paid per ~``max_bytes``.

    The CSV reader parses small blocks to keep its read-ahead small; validating each block
    separately would spend more time in per-call overhead than in the kernels.
    """
    pending: list[RawBatch] = []
    rows = size_bytes = 0
    for raw in batches:
        pending.append(raw)
        rows += raw.batch.num_rows
        size_bytes += raw.batch.nbytes
        if rows >= max_rows or size_bytes >= max_bytes:
            yield _merged(pending)
            pending, rows, size_bytes = [], 0, 0
    if pending:
        yield _merged(pending)


def _merged(parts: list[RawBatch]) -> RawBatch:
    if len(parts) == 1:
        return parts[0]
    table = pa.Table.from_batches([p.batch for p in parts]).combine_chunks()
    batches = table.to_batches()
    batch = batches[0] if batches else parts[0].batch
    lines = np.concatenate([p.lines for p in parts])
    return RawBatch(batch, lines, [problem for p in parts for problem in p.problems])
