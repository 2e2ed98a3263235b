"""Reading a normalised dataset back, whole or in batches, for training jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from limelight.datasets.ingest.pipeline import INGEST_METADATA_KEY, KIND_METADATA_KEY
from limelight.errors import InvalidParams


def read_normalized(path: Path | str, columns: Sequence[str] | None = None) -> pa.Table:
    """The whole normalised table (or some of its columns)."""
    _check_columns(pq.read_schema(path), columns)
    return pq.read_table(path, columns=list(columns) if columns is not None else None)


def iter_normalized(path: Path | str, batch_size: int = 65_536,
                    columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The normalised table in record batches of at most ``batch_size`` rows, in file order."""
    if batch_size < 1:
        raise InvalidParams("batch_size must be positive.", details={"batch_size": batch_size})
    file = pq.ParquetFile(path)
    _check_columns(file.schema_arrow, columns)
    yield from file.iter_batches(batch_size=batch_size, columns=list(columns) if columns is not None else None)


def normalized_info(path: Path | str) -> dict[str, Any]:
    """The kind and lineage (source format, encoding, column names in the upload) stored in the file."""
    metadata = pq.read_schema(path).metadata or {}
    lineage = json.loads(metadata.get(INGEST_METADATA_KEY, b"{}"))
    return {"kind": metadata.get(KIND_METADATA_KEY, b"").decode() or None, **lineage}


def _check_columns(schema: pa.Schema, columns: Sequence[str] | None) -> None:
    if columns is None:
        return
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise InvalidParams(f"Unknown column(s): {', '.join(unknown)}.",
                            details={"unknown": unknown, "columns": schema.names})
