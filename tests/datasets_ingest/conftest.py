"""Helpers for the ingest tests: the same rows written as CSV, JSON Lines or Parquet bytes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from limelight.datasets.ingest import IngestOptions, IngestResult, ingest
from limelight.errors import DatasetInvalid

FORMATS = ("csv", "jsonl", "parquet")


def encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()
    if fmt == "jsonl":
        return b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    return parquet_bytes(pa.Table.from_pylist(rows))


def parquet_bytes(table: pa.Table, **write_options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **write_options)
    return sink.getvalue()


def run(data: bytes, kind: str, dest: Path, *, filename: str | None = None,
        options: IngestOptions | None = None) -> IngestResult:
    return ingest(io.BytesIO(data), kind=kind, filename=filename, dest=dest, options=options)


def rejection(data: bytes, kind: str, dest: Path, **kw: Any) -> dict[str, Any]:
    """The details of the expected rejection, checking that it left no file behind."""
    existed = dest.exists()
    with pytest.raises(DatasetInvalid) as caught:
        run(data, kind, dest, **kw)
    assert caught.value.status == 422
    assert dest.exists() == existed
    assert not list(dest.parent.glob(".*partial")), "a rejected ingest left a partial file"
    return caught.value.details


def errors(details: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    """(line, column, reason) of every listed problem."""
    return [(e["line"], e["column"], e["reason"]) for e in details["errors"]]


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out / "data.parquet"
