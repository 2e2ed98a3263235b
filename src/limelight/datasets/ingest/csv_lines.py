"""Maps the rows pyarrow's CSV reader yields back to physical line numbers.

pyarrow numbers CSV *records* (the header is record 1; a quoted value may span lines), drops the
records it cannot parse after telling an ``invalid_row_handler`` their record number, and says
nothing about line numbers. A record's first physical line is its record number plus every
newline embedded in the records before it, so the tracker needs, per batch, the embedded newlines
of each row and the records the parser skipped. ``ignore_empty_lines=False`` keeps blank lines
as (empty) records so that record numbers stay in step with the file.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SkippedRecord:
    record: int
    text: str
    fields: int


@dataclass(frozen=True)
class PlacedSkip:
    line: int
    text: str
    fields: int


class CsvLineTracker:
    def __init__(self, header_newlines: int) -> None:
        self._next_record = 2
        self._newlines_before = header_newlines  # embedded newlines in all records before _next_record
        self._pending: deque[SkippedRecord] = deque()

    def on_invalid_row(self, record: int | None, text: str, fields: int) -> None:
        # pyarrow gives no number only when parsing in parallel, which the reader turns off.
        self._pending.append(SkippedRecord(record if record is not None else self._next_record, text, fields))

    def next_line(self) -> int:
        """The line the next record starts on, skipped records aside (for parse errors)."""
        return self._next_record + self._newlines_before

    def place(self, row_newlines: np.ndarray) -> tuple[np.ndarray, list[PlacedSkip]]:
        """Lines of a batch's rows, and of the skipped records interleaved with them."""
        n = len(row_newlines)
        if n == 0:
            return np.zeros(0, dtype=np.int64), []
        records = self._next_record + np.arange(n, dtype=np.int64)
        row_cum = np.concatenate(([0], np.cumsum(row_newlines, dtype=np.int64)))
        skip_newlines_before = np.zeros(n, dtype=np.int64)
        placed: list[PlacedSkip] = []
        skipped_newlines = 0
        while self._pending and self._pending[0].record <= records[-1]:
            skip = self._pending.popleft()
            position = int(np.searchsorted(records, skip.record))  # batch rows before the skip
            line = skip.record + self._newlines_before + int(row_cum[position]) + skipped_newlines
            placed.append(PlacedSkip(line, skip.text, skip.fields))
            records[position:] += 1
            newlines = skip.text.count("\n")
            skip_newlines_before[position:] += newlines
            skipped_newlines += newlines
        lines = records + self._newlines_before + row_cum[:-1] + skip_newlines_before
        self._next_record = int(records[-1]) + 1
        self._newlines_before += int(row_cum[-1]) + skipped_newlines
        return lines, placed

    def flush(self) -> list[PlacedSkip]:
        """Skipped records after the last row."""
        placed: list[PlacedSkip] = []
        while self._pending:
            skip = self._pending.popleft()
            placed.append(PlacedSkip(skip.record + self._newlines_before, skip.text, skip.fields))
            self._newlines_before += skip.text.count("\n")
        return placed
