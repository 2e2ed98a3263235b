"""A glance at a stored dataset version: its first rows and a few example values of a column.

Reads only the first record batch of the normalised Parquet file, never the whole table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PREVIEW_ROWS = 20
CELL_MAX_CHARS = 80


def first_rows(path: Path, limit: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    for batch in parquet.iter_batches(batch_size=limit):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        return names, [[_cell(col[r]) for col in columns] for r in range(batch.num_rows)]
    return names, []


def example_values(path: Path, column: str, limit: int = 12, scan_rows: int = 5000) -> list[str]:
    """Distinct values of ``column`` in the first rows, in order of appearance."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    if column not in parquet.schema_arrow.names:
        return []
    seen: dict[str, None] = {}
    for batch in parquet.iter_batches(batch_size=scan_rows, columns=[column]):
        for value in batch.column(0).to_pylist():
            if value is not None:
                seen.setdefault(str(value), None)
                if len(seen) >= limit:
                    return list(seen)
        break
    return list(seen)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):  # an image's bytes: their size, not their text
        return f"{len(value):,} bytes"
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return text if len(text) <= CELL_MAX_CHARS else text[: CELL_MAX_CHARS - 1] + "…"
