"""CSV with a header row, streamed block by block through ``pyarrow.csv.open_csv``.

Every column is read as text so that a bad value becomes a reported problem of one row, not a
failure of the whole block; typing happens in ``convert.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from limelight.datasets.ingest.csv_lines import CsvLineTracker, PlacedSkip
from limelight.datasets.ingest.header import check_names
from limelight.datasets.ingest.options import IngestOptions
from limelight.datasets.ingest.problems import Problem, Reason, reject_file, show_value
from limelight.datasets.ingest.raw import RawBatch
from limelight.datasets.ingest.source import HEAD_BYTES, Source, text_encoding

DELIMITERS = (",", "\t", ";", "|")
# What pyarrow raises on malformed text (UnicodeDecodeError is a ValueError, for UTF-16 input).
UNREADABLE_ERRORS = (pa.ArrowException, OSError, ValueError)
SNIFF_RECORDS = 50


class CsvReader:
    format = "csv"

    def __init__(self, source: Source, options: IngestOptions) -> None:
        self.warnings: list[str] = []
        self._source = source
        self._options = options
        self.encoding: str | None = text_encoding(source)
        sample = source.head(HEAD_BYTES).decode(self.encoding, errors="replace").lstrip("\ufeff")
        self.delimiter: str | None = sniff_delimiter(sample)
        header = _first_record(sample, self.delimiter)
        if not header:
            reject_file(Problem(1, None, None, Reason.NO_ROWS))
        self._header = header
        self._names = check_names(header, options.max_columns)
        self._header_newlines = sum(name.count("\n") for name in header)

    def schema(self) -> pa.Schema:
        return pa.schema([(name, pa.string()) for name in self._names])

    def batches(self) -> Iterator[RawBatch]:
        tracker = CsvLineTracker(self._header_newlines)
        reader = self._open(tracker)
        if len(reader.schema) != len(self._names):
            reject_file(Problem(1, None, None, Reason.UNREADABLE))
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except UNREADABLE_ERRORS as exc:
                _reject_parse_error(exc, tracker)
            yield self._raw_batch(batch, tracker)
        tail = [self._problem(skip) for skip in tracker.flush()]
        if tail:
            yield RawBatch(_empty(self.schema()), np.zeros(0, dtype=np.int64), tail)

    def _open(self, tracker: CsvLineTracker) -> pv.CSVStreamingReader:
        def on_invalid(row: pv.InvalidRow) -> str:
            tracker.on_invalid_row(row.number, row.text, row.actual_columns)
            return "skip"

        read = pv.ReadOptions(use_threads=False, block_size=self._options.csv_block_bytes,
                              encoding=self.encoding or "utf8")
        parse = pv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                ignore_empty_lines=False, invalid_row_handler=on_invalid)
        convert = pv.ConvertOptions(column_types=dict.fromkeys(self._header, pa.string()),
                                    strings_can_be_null=False, quoted_strings_can_be_null=False)
        try:
            return pv.open_csv(self._source.arrow_input(), read_options=read, parse_options=parse,
                               convert_options=convert)
        except UNREADABLE_ERRORS as exc:
            _reject_parse_error(exc, tracker)

    def _raw_batch(self, batch: pa.RecordBatch, tracker: CsvLineTracker) -> RawBatch:
        batch = pa.RecordBatch.from_arrays(batch.columns, names=self._names)
        lines, skips = tracker.place(_embedded_newlines(batch))
        keep = ~_blank_rows(batch)
        if not keep.all():
            batch, lines = batch.filter(pa.array(keep)), lines[keep]
        return RawBatch(batch, lines, [self._problem(skip) for skip in skips])

    def _problem(self, skip: PlacedSkip) -> Problem:
        reason = f"{Reason.WRONG_FIELD_COUNT} (expected {len(self._names)}, found {skip.fields})"
        return Problem(skip.line, None, show_value(skip.text), reason)


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields.

    Among consistent candidates the one giving the most fields wins; ties go to the order of
    ``DELIMITERS``. A one-column file has no consistent candidate and gets ``,``.
    """
    lines = sample.splitlines(keepends=True)
    text = "".join(lines[:-1] if len(lines) > 1 else lines)  # drop a record cut by the sample end
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = {len(r) for r in _records(text, delimiter, SNIFF_RECORDS) if r}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _first_record(sample: str, delimiter: str) -> list[str]:
    rows = _records(sample, delimiter, 1)
    return rows[0] if rows else []


def _embedded_newlines(batch: pa.RecordBatch) -> np.ndarray:
    total = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        counts = pc.count_substring(column, "\n")
        if pc.max(counts).as_py():
            total += counts.to_numpy(zero_copy_only=False)
    return total


def _blank_rows(batch: pa.RecordBatch) -> np.ndarray:
    """Blank lines come through as records whose every field is empty."""
    blank = pc.equal(pc.utf8_length(batch.column(0)), 0)
    if not pc.any(blank).as_py():
        return np.zeros(batch.num_rows, dtype=bool)
    for column in batch.columns[1:]:
        blank = pc.and_(blank, pc.equal(pc.utf8_length(column), 0))
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _reject_parse_error(exc: Exception, tracker: CsvLineTracker) -> NoReturn:
    message = str(exc)
    reason = Reason.LINE_TOO_LONG if "straddling" in message else Reason.UNREADABLE
    reject_file(Problem(tracker.next_line(), None, show_value(message), reason))
