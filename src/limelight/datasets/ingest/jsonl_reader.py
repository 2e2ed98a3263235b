"""JSON Lines: one object per line, read line by line in batches of ``batch_rows``.

The columns are the keys of the first batch (up to ``batch_rows`` rows or 2 MiB of text), in
order of first appearance; a key first seen later is ignored with a warning, because the
normalised file's schema is fixed by then.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np
import orjson
import pyarrow as pa

from limelight.datasets.ingest.header import check_names
from limelight.datasets.ingest.options import IngestOptions
from limelight.datasets.ingest.problems import Problem, ProblemLog, Reason, reject_file, show_value
from limelight.datasets.ingest.raw import RawBatch
from limelight.datasets.ingest.source import COPY_CHUNK_BYTES, Source

_BOM = b"\xef\xbb\xbf"
CHUNK_MAX_BYTES = 2 << 20  # parsed JSON costs several times its text in Python objects
LATE_KEY_WARNINGS = 10


class JsonlReader:
    format = "jsonl"

    def __init__(self, source: Source, options: IngestOptions) -> None:
        self.encoding: str | None = "utf-8"
        self.delimiter: str | None = None
        self.warnings: list[str] = []
        self._source = source
        self._options = options
        self._chunks = self._parsed_chunks()
        self._first = next(self._chunks, None)
        if self._first is None or not self._first[0]:
            self._reject_without_rows()
        keys = list(dict.fromkeys(k for row in self._first[0] for k in row))
        cleaned = check_names(keys, options.max_columns)
        if cleaned != keys:  # blank or padded keys: rename, since files are matched by name
            self._rename = dict(zip(keys, cleaned, strict=True))
        else:
            self._rename = {}
        self._keys = keys

    def _reject_without_rows(self) -> NoReturn:
        """No object in the first batch: report what was wrong with the lines instead."""
        log = ProblemLog(self._options.max_errors)
        for _, _, problems in itertools.chain([self._first or ([], [], [])], self._chunks):
            for problem in problems:
                log.add(problem)
                log.bad_rows += 1
                log.rows_checked += 1
        if not log.bad_rows:
            reject_file(Problem(1, None, None, Reason.NO_ROWS))
        log.reject()

    def schema(self) -> pa.Schema:
        # Raw types vary per batch (a JSON column may hold numbers and text); conversion handles it.
        return pa.schema([(self._rename.get(k, k), pa.null()) for k in self._keys])

    def batches(self) -> Iterator[RawBatch]:
        known = set(self._keys)
        for chunk_index, (rows, lines, problems) in enumerate(self._all_chunks()):
            if chunk_index:
                self._warn_new_keys(rows, lines, known)
            yield self._raw_batch(rows, lines, problems)

    def _all_chunks(self) -> Iterator[tuple[list[dict[str, Any]], list[int], list[Problem]]]:
        if self._first is not None:
            yield self._first
        yield from self._chunks

    def _raw_batch(self, rows: list[dict[str, Any]], lines: list[int], problems: list[Problem]) -> RawBatch:
        arrays, names, nested_rows = [], [], set()
        for key in self._keys:
            name = self._rename.get(key, key)
            array, nested = json_column([row.get(key) for row in rows])
            problems.extend(Problem(lines[i], name, show_value(_dump(rows[i][key])), Reason.NESTED_VALUE)
                            for i in nested)
            nested_rows.update(nested)
            arrays.append(array)
            names.append(name)
        batch = pa.RecordBatch.from_arrays(arrays, names=names)
        line_numbers = np.asarray(lines, dtype=np.int64)
        if nested_rows:  # such a row is already bad: leave it out rather than report it twice
            keep = np.ones(len(rows), dtype=bool)
            keep[list(nested_rows)] = False
            batch, line_numbers = batch.filter(pa.array(keep)), line_numbers[keep]
        return RawBatch(batch, line_numbers, problems)

    def _warn_new_keys(self, rows: list[dict[str, Any]], lines: list[int], known: set[str]) -> None:
        for row, line in zip(rows, lines, strict=True):
            for key in row.keys() - known:
                known.add(key)
                if len(self.warnings) < LATE_KEY_WARNINGS:
                    self.warnings.append(f"JSON key {show_value(key)!r} first appears on line {line}, after "
                                         f"the first batch of rows fixed the columns; it was ignored.")
                elif len(self.warnings) == LATE_KEY_WARNINGS:
                    self.warnings.append("More JSON keys appear after the first batch; they were ignored too.")

    def _parsed_chunks(self) -> Iterator[tuple[list[dict[str, Any]], list[int], list[Problem]]]:
        rows: list[dict[str, Any]] = []
        lines: list[int] = []
        problems: list[Problem] = []
        chunk_bytes = 0
        for line_no, raw in self._lines():
            parsed = _parse(line_no, raw, self._options.max_line_bytes)
            if isinstance(parsed, Problem):
                problems.append(parsed)
            elif parsed is not None:
                rows.append(parsed)
                lines.append(line_no)
                chunk_bytes += len(raw)
            if len(rows) >= self._options.batch_rows or chunk_bytes >= CHUNK_MAX_BYTES:
                yield rows, lines, problems
                rows, lines, problems, chunk_bytes = [], [], [], 0
        if rows or problems:
            yield rows, lines, problems

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        """Physical lines; one longer than the limit yields its first bytes only, marked by length."""
        file, limit = self._source.file, self._options.max_line_bytes
        file.seek(0)
        line_no = 0
        while raw := file.readline(limit + 1):
            line_no += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                _skip_rest_of_line(file)
            yield line_no, raw


def _parse(line_no: int, raw: bytes, limit: int) -> dict[str, Any] | Problem | None:
    if len(raw) > limit:
        return Problem(line_no, None, None, f"{Reason.LINE_TOO_LONG} (limit {limit} bytes)")
    text = raw.strip()
    if line_no == 1 and text.startswith(_BOM):
        text = text[len(_BOM):].strip()
    if not text:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Problem(line_no, None, show_value(text.decode("utf-8", "replace")), _json_reason(exc))
    if not isinstance(value, dict):
        return Problem(line_no, None, show_value(text.decode("utf-8", "replace")), Reason.NOT_AN_OBJECT)
    return value


def _json_reason(exc: orjson.JSONDecodeError) -> str:
    return Reason.INVALID_UTF8 if "utf-8" in str(exc).lower() else Reason.INVALID_JSON


def _skip_rest_of_line(file: Any) -> None:
    while chunk := file.readline(COPY_CHUNK_BYTES):
        if chunk.endswith(b"\n"):
            return


def json_column(values: list[Any]) -> tuple[pa.Array, list[int]]:
    """An Arrow array for one key's values, and the rows holding objects where none belong.

    Uniform values keep their JSON type (numbers, text, booleans, lists of text). Mixed ones
    become text, so that the column converter reports the odd value of its row, not the batch.
    """
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None and not _nested_beyond_text_lists(array.type):
        return array, []
    nested = [i for i, v in enumerate(values) if isinstance(v, dict | list) and not _text_list(v)]
    skip = set(nested)
    texts = [None if v is None or i in skip else _as_text(v) for i, v in enumerate(values)]
    return pa.array(texts, pa.string()), nested


def _nested_beyond_text_lists(arrow_type: pa.DataType) -> bool:
    if pa.types.is_list(arrow_type):
        return not (pa.types.is_string(arrow_type.value_type) or pa.types.is_null(arrow_type.value_type))
    return pa.types.is_nested(arrow_type)


def _text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    return value if isinstance(value, str) else repr(value)


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()
