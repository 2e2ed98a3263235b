"""The public surface of ``limelight.datasets.ingest`` is pinned: changing it is a decision."""

from __future__ import annotations

import inspect
from pathlib import Path

import limelight.datasets.ingest as api


def test_exported_names() -> None:
    assert sorted(api.__all__) == sorted([
        "FORMATS", "ColumnInfo", "IngestOptions", "IngestResult", "Reason", "detect_format", "ingest",
        "iter_normalized", "kind_names", "kinds", "normalized_info", "read_normalized",
    ])
    for name in api.__all__:
        assert getattr(api, name) is not None


def test_ingest_signature() -> None:
    parameters = inspect.signature(api.ingest).parameters
    assert list(parameters) == ["source", "kind", "filename", "content_type", "dest", "options"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for name, p in parameters.items() if name != "source")


def test_normalized_file_carries_its_lineage(tmp_path: Path) -> None:
    import io

    dest = tmp_path / "x.parquet"
    api.ingest(io.BytesIO(b"userId;movieId\n1;2\n"), kind="interactions", dest=dest)

    assert api.normalized_info(dest) == {"kind": "interactions", "format": "csv", "encoding": "utf-8",
                                         "delimiter": ";",
                                         "source_columns": {"user_id": "userId", "item_id": "movieId"}}
