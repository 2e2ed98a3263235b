"""The normalised Parquet file: written under a temporary name, renamed into place only when valid."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"
BUFFER_MAX_BYTES = 4 << 20


class PartialParquet:
    """A Parquet file at a hidden name next to ``dest``; ``commit`` renames it, leaving it deletes it.

    Batches are buffered into row groups of ``row_group_rows`` rows or ``BUFFER_MAX_BYTES``,
    whichever comes first, so the file has few, large row groups however small the reader's
    batches are, and memory stays bounded however wide the rows are.
    """

    def __init__(self, dest: Path, row_group_rows: int) -> None:
        self.dest = dest
        self.path = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.partial")
        self._row_group_rows = row_group_rows
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0

    def __enter__(self) -> PartialParquet:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self.path.unlink(missing_ok=True)  # after commit the name is gone already

    def write(self, batch: pa.RecordBatch, schema: pa.Schema) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, schema, compression=COMPRESSION)
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self._pending_bytes += batch.nbytes
        if self._pending_rows >= self._row_group_rows or self._pending_bytes >= BUFFER_MAX_BYTES:
            self._flush()

    def commit(self) -> None:
        if self._writer is None:
            raise RuntimeError("nothing was written")
        self._flush()
        self._writer.close()
        self._writer = None
        with open(self.path, "rb") as written:
            os.fsync(written.fileno())
        os.replace(self.path, self.dest)

    def _flush(self) -> None:
        if not self._pending or self._writer is None:
            return
        table = pa.Table.from_batches(self._pending)
        self._writer.write_table(table, row_group_size=table.num_rows)
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0
