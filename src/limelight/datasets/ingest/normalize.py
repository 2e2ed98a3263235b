"""Raw batches → canonical batches of one kind, with every bad row logged by line and column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from limelight.datasets.ingest.convert import (
    Flags,
    to_float32,
    to_id,
    to_int,
    to_string_list,
    to_text,
)
from limelight.datasets.ingest.header import Binding, bind_columns
from limelight.datasets.ingest.inference import Converter, infer_column
from limelight.datasets.ingest.kinds import ColumnSpec, KindSpec
from limelight.datasets.ingest.options import ColumnInfo
from limelight.datasets.ingest.problems import Problem, ProblemLog, Reason, reject_file, show_value
from limelight.datasets.ingest.raw import RawBatch
from limelight.datasets.ingest.timestamps import to_epoch_seconds

_DECLARED_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(), "string": pa.string(), "text": pa.string(), "label": pa.string(),
    "float": pa.float32(), "int": pa.int64(), "timestamp": pa.int64(), "string_list": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class OutputColumn:
    name: str
    source: str
    arrow_type: pa.DataType
    convert: Converter
    spec: ColumnSpec | None  # None for an extra column

    def info(self) -> ColumnInfo:
        return ColumnInfo(self.name, type_name(self.arrow_type), self.source, self.spec is None)


def type_name(t: pa.DataType) -> str:
    """Arrow type names as people write them: ``float32``, ``float64``, ``list<string>``."""
    if pa.types.is_list(t):
        return f"list<{type_name(t.value_type)}>"
    names = {pa.float32(): "float32", pa.float64(): "float64", pa.bool_(): "bool"}
    return names.get(t, str(t))


def declared_converter(spec: ColumnSpec) -> Converter:
    match spec.type:
        case "id":
            return to_id
        case "string":
            return lambda a: to_text(a, required=False)
        case "text":
            return lambda a: to_text(a, required=True)
        case "label":
            return lambda a: to_text(a, required=True, trim=True)
        case "float":
            return lambda a: to_float32(a, min_value=spec.min_value)
        case "int":
            return lambda a: to_int(a, min_value=spec.min_value)
        case "timestamp":
            return to_epoch_seconds
        case "string_list":
            return to_string_list
    raise ValueError(f"no converter for {spec.type}")  # "auto" columns are inferred instead


class Normalizer:
    """Turns one reader's raw batches into batches of the normalised schema.

    Declared columns have fixed types; extra columns (and the tabular target) get theirs from
    the first batch. Ids declared unique are checked across the whole file.
    """

    def __init__(self, kind: KindSpec, raw_schema: pa.Schema, target: str | None) -> None:
        self.kind = kind
        self._bindings, self._extras = bind_columns(kind, raw_schema.names, target)
        _refuse_misplaced_lists(self._bindings, raw_schema)
        self._columns: list[OutputColumn] | None = None
        self._schema: pa.Schema | None = None
        self._seen_ids: dict[str, set[str]] = {}

    @property
    def columns(self) -> list[OutputColumn]:
        if self._columns is None:
            raise RuntimeError("the columns are known after the first batch")
        return self._columns

    def schema(self) -> pa.Schema:
        if self._schema is None:
            self._schema = pa.schema([pa.field(c.name, c.arrow_type, nullable=not (c.spec and c.spec.required))
                                      for c in self.columns])
        return self._schema

    def normalize(self, raw: RawBatch, log: ProblemLog) -> pa.RecordBatch:
        """The batch in canonical form; its bad rows go to ``log`` (the batch is then unusable)."""
        if self._columns is None:
            self._columns = self._plan(raw.batch)
        for problem in raw.problems:
            log.add(problem)
        n = raw.batch.num_rows
        bad = np.zeros(n, dtype=bool)
        arrays = []
        for column in self.columns:
            values, flags = column.convert(raw.batch.column(column.source))
            if column.spec is not None and column.spec.unique:
                flags.append((self._duplicates(column.name, values), Reason.DUPLICATE_ID))
            bad |= _log_flags(flags, raw, column.source, log)
            arrays.append(values)
        dropped = len({p.line for p in raw.problems})
        log.bad_rows += int(bad.sum()) + dropped
        log.rows_checked += n + dropped
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema())

    def _plan(self, first: pa.RecordBatch) -> list[OutputColumn]:
        planned = []
        for binding in self._bindings:
            spec = binding.spec
            if spec.type == "auto":
                inferred = infer_column(binding.source, first.column(binding.source), required=spec.required)
                planned.append(OutputColumn(spec.name, binding.source, inferred.arrow_type,
                                            inferred.convert, spec))
            else:
                planned.append(OutputColumn(spec.name, binding.source, _DECLARED_TYPES[spec.type],
                                            declared_converter(spec), spec))
        for name in self._extras:
            inferred = infer_column(name, first.column(name), required=False)
            planned.append(OutputColumn(name, name, inferred.arrow_type, inferred.convert, None))
        return planned

    def _duplicates(self, name: str, ids: pa.Array) -> np.ndarray:
        seen = self._seen_ids.setdefault(name, set())
        duplicate = np.zeros(len(ids), dtype=bool)
        for i, value in enumerate(ids.to_pylist()):
            if value is None:
                continue
            if value in seen:
                duplicate[i] = True
            else:
                seen.add(value)
        return duplicate


def _log_flags(flags: Flags, raw: RawBatch, source: str, log: ProblemLog) -> np.ndarray:
    """Logs the first flagged rows (only as many as the log can still keep); returns all bad rows."""
    bad = np.zeros(raw.batch.num_rows, dtype=bool)
    raw_column = raw.batch.column(source)
    for mask, reason in flags:
        if not mask.any():
            continue
        bad |= mask
        for i in np.flatnonzero(mask)[: log.limit]:
            line = int(raw.lines[i])
            if not log.would_keep(line):
                break
            log.add(Problem(line, source, show_value(raw_column[int(i)].as_py()), reason))
    return bad


def _refuse_misplaced_lists(bindings: list[Binding], raw_schema: pa.Schema) -> None:
    """A Parquet list column can only feed a list column (JSON types are checked per row)."""
    for binding in bindings:
        raw_type = raw_schema.field(binding.source).type
        if pa.types.is_list(raw_type) and binding.spec.type not in ("string_list", "auto"):
            reject_file(Problem(1, binding.source, str(raw_type),
                                f"{Reason.UNSUPPORTED_TYPE}: {binding.spec.name} cannot be a list"))
