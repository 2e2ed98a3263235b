"""``ingest``: one pass from uploaded bytes to a validated, profiled, normalised Parquet file."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from limelight.datasets.ingest.csv_reader import CsvReader
from limelight.datasets.ingest.documents import DocumentRows, document_rows
from limelight.datasets.ingest.formats import CSV, PARQUET, detect_format
from limelight.datasets.ingest.jsonl_reader import JsonlReader
from limelight.datasets.ingest.kinds import KindSpec, get_kind
from limelight.datasets.ingest.normalize import Normalizer
from limelight.datasets.ingest.options import IngestOptions, IngestResult
from limelight.datasets.ingest.output import PartialParquet
from limelight.datasets.ingest.parquet_reader import ParquetReader
from limelight.datasets.ingest.problems import Problem, ProblemLog, Reason, reject_file
from limelight.datasets.ingest.profile import Profiler
from limelight.datasets.ingest.raw import RawReader, coalesced
from limelight.datasets.ingest.source import Source, open_source
from limelight.errors import InvalidParams

KIND_METADATA_KEY = b"limelight.kind"
BATCH_MAX_BYTES = 2 << 20  # raw rows validated together; bounds the memory of one step
INGEST_METADATA_KEY = b"limelight.ingest"


def ingest(
    source: BinaryIO | Path | str,
    *,
    kind: str,
    filename: str | None = None,
    content_type: str | None = None,
    dest: Path | str,
    options: IngestOptions | None = None,
) -> IngestResult:
    """Reads, validates, normalises and profiles one upload; writes ``dest`` only if it is valid.

    ``source`` is a path or a binary file object read from its start (a non-seekable stream is
    spooled to a temporary file first). Raises ``InvalidParams`` for an unknown kind or bad
    options, ``UnsupportedMediaType`` when the bytes are not CSV, JSON Lines or Parquet, and
    ``DatasetInvalid`` (with ``details.errors`` by line and column) when any row is bad; then
    nothing is left at ``dest`` or beside it.
    """
    options = options or IngestOptions()
    spec = get_kind(kind)
    if spec.name == "images":
        raise InvalidParams("images datasets are read by ingest_images (a confined child), not as rows.",
                            details={"kind": kind})
    _check_options(spec, options)
    with open_source(source) as src:
        head = src.head()
        if not head.strip():
            reject_file(Problem(1, None, None, Reason.NO_ROWS))
        if spec.name == "documents":
            converted = document_rows(src, head, filename, content_type, options.archive)
            if converted is not None:
                return _ingest_documents(converted, dest, options)
        fmt = detect_format(head, filename, content_type)
        reader = _open_reader(fmt, src, options)
        normalizer = Normalizer(spec, reader.schema(), options.target)
        with PartialParquet(Path(dest), options.row_group_rows) as output:
            profiler = _run(reader, normalizer, output, options)
            output.commit()
    warnings = list(reader.warnings)
    if reader.encoding == "latin-1":
        warnings.append("The file is not valid UTF-8; it was read as Latin-1 (ISO-8859-1).")
    return IngestResult(
        rows=profiler.rows,
        columns=[c.info() for c in normalizer.columns],
        profile=profiler.result(),
        format=reader.format,
        encoding=reader.encoding,
        delimiter=reader.delimiter,
        warnings=warnings,
    )


def _ingest_documents(converted: DocumentRows, dest: Path | str, options: IngestOptions) -> IngestResult:
    """Document files as rows, validated like an uploaded JSON Lines file of them."""
    with tempfile.TemporaryDirectory(prefix="limelight-documents-") as tmp:
        rows = converted.write_jsonl(Path(tmp) / "documents.jsonl")
        result = ingest(rows, kind="documents", filename=rows.name, dest=dest, options=options)
    skipped = sum(1 for f in converted.files if f.get("status") != "ok")
    warnings = [*result.warnings, *([f"{skipped} file(s) skipped; see profile.files."] if skipped else [])]
    return dataclasses.replace(result, format=converted.format, encoding=None, warnings=warnings,
                               profile={**result.profile, "files": converted.report()})


def _run(reader: RawReader, normalizer: Normalizer, output: PartialParquet,
         options: IngestOptions) -> Profiler:
    log = ProblemLog(options.max_errors)
    profiler: Profiler | None = None
    schema: pa.Schema | None = None
    for raw in coalesced(reader.batches(), options.batch_rows, BATCH_MAX_BYTES):
        batch = normalizer.normalize(raw, log)
        if log.bad_rows or batch.num_rows == 0:
            continue  # once rejected, keep reading only to count the bad rows
        if profiler is None or schema is None:
            profiler = Profiler(normalizer.kind.name, normalizer.columns, options)
            schema = normalizer.schema().with_metadata(_metadata(reader, normalizer))
        output.write(batch, schema)
        profiler.update(batch)
    if log.bad_rows:
        log.reject()
    if profiler is None:
        reject_file(Problem(1, None, None, Reason.NO_ROWS))
    return profiler


def _open_reader(fmt: str, source: Source, options: IngestOptions) -> RawReader:
    if fmt == CSV:
        return CsvReader(source, options)
    if fmt == PARQUET:
        return ParquetReader(source, options)
    return JsonlReader(source, options)


def _check_options(spec: KindSpec, options: IngestOptions) -> None:
    if options.target is not None and not spec.takes_target:
        raise InvalidParams(f"target= applies to tabular datasets, not {spec.name!r}.",
                            details={"kind": spec.name, "target": options.target})
    positive = {name: getattr(options, name) for name in (
        "max_errors", "batch_rows", "csv_block_bytes", "max_line_bytes", "max_columns",
        "max_row_groups", "max_row_group_bytes", "row_group_rows", "exact_distinct_max", "top_values")}
    wrong = sorted(name for name, value in positive.items() if value < 1)
    if wrong:
        raise InvalidParams(f"Ingest options must be positive: {', '.join(wrong)}.", details={"options": wrong})


def _metadata(reader: RawReader, normalizer: Normalizer) -> dict[bytes, bytes]:
    lineage = {
        "format": reader.format,
        "encoding": reader.encoding,
        "delimiter": reader.delimiter,
        "source_columns": {c.name: c.source for c in normalizer.columns},
    }
    return {KIND_METADATA_KEY: normalizer.kind.name.encode(), INGEST_METADATA_KEY: json.dumps(lineage).encode()}
