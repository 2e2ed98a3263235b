"""A stored dataset version back out: the normalised Parquet file as it is, or CSV made from it.

CSV is written a row batch at a time, so a large version streams in bounded memory. Nested
columns (lists of labels, profile maps) become JSON text in their cell; binary columns (the
picture bytes of an ``images`` dataset) have no CSV form, and such a version downloads as Parquet only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BATCH_ROWS = 8192


def has_binary_columns(path: Path) -> bool:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
               for f in pq.read_schema(path))


def csv_chunks(path: Path) -> Iterator[bytes]:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    header = True
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        out = io.BytesIO()
        pacsv.write_csv(_flat(batch), out, write_options=pacsv.WriteOptions(include_header=header, quoting_style="needed"))
        header = False
        yield out.getvalue()
    if header:  # no rows at all: still the header line
        out = io.BytesIO()
        schema = pq.read_schema(path)
        pacsv.write_csv(schema.empty_table(), out)
        yield out.getvalue()


def _flat(batch: Any) -> Any:
    """Nested columns as JSON text; everything else as it is."""
    import pyarrow as pa

    columns, names = [], []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_nested(column.type):
            column = pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                               for v in column.to_pylist()], pa.string())
        columns.append(column)
        names.append(name)
    return pa.RecordBatch.from_arrays(columns, names=names)
