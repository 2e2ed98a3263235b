"""Parquet, streamed by record batches, with the guards a hostile file calls for.

CVE-2023-47248: before pyarrow 14.0.1, a file whose schema names a ``PyExtensionType`` made
pyarrow unpickle attacker bytes on read. Newer pyarrow no longer autoloads it; on top of that we
refuse every extension type (registered ones arrive as ``pa.BaseExtensionType``, unknown ones as
their storage type plus ``ARROW:extension:name`` field metadata), every nested type but a list
of strings, and footers declaring absurd sizes, before a single data page is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from limelight.datasets.ingest.header import check_names
from limelight.datasets.ingest.options import IngestOptions
from limelight.datasets.ingest.problems import Problem, Reason, reject_file, show_value
from limelight.datasets.ingest.raw import RawBatch
from limelight.datasets.ingest.source import Source
from limelight.errors import UnsupportedMediaType

SAFE_PYARROW = (14, 0, 1)
READ_BUFFER_BYTES = 1 << 20
THRIFT_STRING_LIMIT_BYTES = 16 << 20
THRIFT_CONTAINER_LIMIT = 100_000
SCHEMA_DEPTH_LIMIT = 8
_EXTENSION_KEY = b"ARROW:extension:name"
_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")
# What pyarrow raises on a corrupt file (a garbled footer can even yield undecodable names).
UNREADABLE_ERRORS = (pa.ArrowException, OSError, ValueError)


def require_safe_pyarrow(version: str = pa.__version__) -> None:
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    if parts < SAFE_PYARROW:
        raise UnsupportedMediaType(
            f"Parquet uploads are disabled: pyarrow {version} is older than 14.0.1 (CVE-2023-47248).")


class ParquetReader:
    format = "parquet"

    def __init__(self, source: Source, options: IngestOptions) -> None:
        require_safe_pyarrow()
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.warnings: list[str] = []
        self._options = options
        self._file = _open(source)
        try:
            metadata, schema = self._file.metadata, self._file.schema_arrow
        except UNREADABLE_ERRORS as exc:
            _reject_unreadable(exc)
        _check_limits(metadata, options)
        fields = [f for f in schema if not _PANDAS_INDEX.match(f.name)]
        for f in fields:
            _check_field(f)
        self._columns = [f.name for f in fields]
        names = check_names(self._columns, options.max_columns)
        self._schema = pa.schema([(n, _plain_type(f.type)) for n, f in zip(names, fields, strict=True)])

    def schema(self) -> pa.Schema:
        return self._schema

    def batches(self) -> Iterator[RawBatch]:
        rows_before = 0
        batches = self._file.iter_batches(batch_size=self._options.batch_rows, columns=self._columns,
                                          use_threads=True)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except UNREADABLE_ERRORS as exc:
                reject_file(Problem(rows_before + 1, None, show_value(str(exc)), Reason.UNREADABLE),
                            rows_checked=rows_before)
            arrays = [_plain(column) for column in batch.columns]
            lines = np.arange(rows_before + 1, rows_before + batch.num_rows + 1, dtype=np.int64)
            rows_before += batch.num_rows
            yield _without_bad_text(pa.RecordBatch.from_arrays(arrays, schema=self._schema), lines)


def _open(source: Source) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(
            source.arrow_input(),
            buffer_size=READ_BUFFER_BYTES,  # stream column chunks instead of loading a row group
            pre_buffer=False,
            thrift_string_size_limit=THRIFT_STRING_LIMIT_BYTES,
            thrift_container_size_limit=THRIFT_CONTAINER_LIMIT,
            schema_depth_limit=SCHEMA_DEPTH_LIMIT,
        )
    except UNREADABLE_ERRORS as exc:
        _reject_unreadable(exc)


def _reject_unreadable(exc: Exception) -> NoReturn:
    reject_file(Problem(1, None, show_value(str(exc)), f"{Reason.UNREADABLE}: not a valid Parquet file"))


def _check_limits(meta: pq.FileMetaData, options: IngestOptions) -> None:
    def refuse(what: str, value: int) -> None:
        reject_file(Problem(1, None, str(value), f"{Reason.LIMIT}: {what}"))

    if meta.num_columns > options.max_columns:
        refuse(f"more than {options.max_columns} columns", meta.num_columns)
    if meta.num_row_groups > options.max_row_groups:
        refuse(f"more than {options.max_row_groups} row groups", meta.num_row_groups)
    for i in range(meta.num_row_groups):
        size = meta.row_group(i).total_byte_size
        if size > options.max_row_group_bytes:
            refuse(f"a row group declares more than {options.max_row_group_bytes} bytes", size)


def _check_field(f: pa.Field) -> None:
    problem = _type_problem(f)
    if problem:
        reject_file(Problem(1, f.name, show_value(str(f.type)), f"{Reason.UNSUPPORTED_TYPE}: {problem}"))


def _type_problem(f: pa.Field) -> str | None:
    t = f.type
    if isinstance(t, pa.BaseExtensionType) or (f.metadata and _EXTENSION_KEY in f.metadata):
        return "extension types are not accepted"
    if pa.types.is_dictionary(t):
        return _scalar_problem(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        item = t.value_field
        if isinstance(item.type, pa.BaseExtensionType) or (item.metadata and _EXTENSION_KEY in item.metadata):
            return "extension types are not accepted"
        if _is_text(item.type) or pa.types.is_null(item.type):
            return None
        return "only lists of strings are accepted"
    if pa.types.is_nested(t):
        return "nested columns are not accepted"
    return _scalar_problem(t)


def _scalar_problem(t: pa.DataType) -> str | None:
    ok = (pa.types.is_null(t) or pa.types.is_boolean(t) or pa.types.is_integer(t)
          or pa.types.is_floating(t) or pa.types.is_decimal(t) or _is_text(t)
          or pa.types.is_timestamp(t) or pa.types.is_date(t))
    return None if ok else "binary, time, duration and interval columns are not accepted"


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _plain_type(t: pa.DataType) -> pa.DataType:
    """The type conversion sees: dictionaries decoded, large/view text and lists made plain."""
    if pa.types.is_dictionary(t):
        return _plain_type(t.value_type)
    if _is_text(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(pa.string())
    if pa.types.is_decimal(t) or pa.types.is_float16(t):
        return pa.float64()
    return t


def _plain(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    target = _plain_type(column.type)
    return column if column.type == target else column.cast(target)


def _without_bad_text(batch: pa.RecordBatch, lines: np.ndarray) -> RawBatch:
    """Parquet does not check that text is UTF-8; rows holding invalid text are left out as bad."""
    bad = np.zeros(batch.num_rows, dtype=bool)
    problems: list[Problem] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(column.type) or pa.types.is_list(column.type)):
            continue
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            for i in _invalid_text_rows(column):
                bad[i] = True
                problems.append(Problem(int(lines[i]), name, None, Reason.INVALID_UTF8))
    if not problems:
        return RawBatch(batch, lines)
    return RawBatch(batch.filter(pa.array(~bad)), lines[~bad], problems)


def _invalid_text_rows(column: pa.Array) -> list[int]:
    as_bytes = column.cast(pa.list_(pa.binary()) if pa.types.is_list(column.type) else pa.binary())
    bad = []
    for i, value in enumerate(as_bytes.to_pylist()):
        try:
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    item.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return bad
