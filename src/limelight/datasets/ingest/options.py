"""What a caller may tune about one ingest, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from limelight.datasets.ingest.archive import ArchiveLimits


@dataclass(frozen=True)
class IngestOptions:
    """Limits and choices for one ingest. The defaults suit uploads of up to a few GB."""

    target: str | None = None  # tabular only: the column to predict, renamed to ``target``
    max_errors: int = 20  # how many problems the rejection lists (all bad rows are still counted)
    batch_rows: int = 65_536  # Parquet/JSONL rows per batch (JSONL batches also stop at 2 MiB of text)
    # pyarrow's CSV reader parses blocks of this size and reads up to 32 blocks ahead, so this
    # bounds its memory (8 MiB by default); a CSV row longer than one block is refused.
    csv_block_bytes: int = 256 << 10
    max_line_bytes: int = 8 << 20  # a JSON Lines line longer than this is refused
    max_columns: int = 1_000
    max_row_groups: int = 10_000  # hostile Parquet: millions of tiny row groups
    max_row_group_bytes: int = 1 << 30  # uncompressed size a Parquet footer may declare per row group
    row_group_rows: int = 131_072  # rows per row group of the normalised file
    exact_distinct_max: int = 100_000  # above this, non-id distinct counts are HyperLogLog estimates
    top_values_max_distinct: int = 1_000  # columns with more distinct values get no top values
    top_values: int = 10
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)  # documents uploaded as a zip or tar


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the normalised Parquet file."""

    name: str  # canonical name (``user_id``) or, for an extra column, its name in the file
    type: str  # Arrow type: ``string``, ``float32``, ``int64``, ``list<item: string>``…
    source: str | None  # the column's name in the uploaded file
    extra: bool  # not one of the kind's declared columns


@dataclass(frozen=True)
class IngestResult:
    rows: int
    columns: list[ColumnInfo]
    profile: dict[str, Any]
    format: str  # ``csv``, ``parquet`` or ``jsonl``
    encoding: str | None = None  # text formats: ``utf-8``, ``latin-1`` (fallback) or ``utf-16``
    delimiter: str | None = None  # CSV only
    warnings: list[str] = field(default_factory=list)
