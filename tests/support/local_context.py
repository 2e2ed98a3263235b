"""A JobContext that runs a recipe in-process on local files, for tests and benchmarks: inputs by
role, one output path, and the logs, progress and metric points kept in lists so tests can read them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limelight.recipes.base import LiveEvents


@dataclass
class LocalJobContext:
    workdir: Path
    inputs: dict[str, Path]
    job_id: str = "local"
    org: str = "local"
    live: LiveEvents = field(default_factory=lambda: LiveEvents(rows=[], max_seq=0))
    logs: list[tuple[str, str]] = field(default_factory=list)
    progress_points: list[float] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)

    def dataset_path(self, role: str = "main") -> Path:
        return self.inputs[role]

    def has_dataset(self, role: str) -> bool:
        return role in self.inputs

    def output_path(self, suffix: str) -> Path:
        return self.workdir / f"artifact{suffix}"

    def progress(self, percent: float, message: str = "") -> None:
        self.progress_points.append(percent)

    def log(self, message: str, level: str = "info") -> None:
        self.logs.append((level, message))

    def metric(self, values: dict[str, float], step: int, epoch: int | None = None) -> None:
        self.metrics.append({"step": step, **values})

    def check_cancelled(self) -> None:
        return None

    def live_events(self) -> LiveEvents:
        return self.live


def parquet_file(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows written as the normalised Parquet a dataset version holds (interactions: ``event``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    renamed = [{("event" if k == "type" else "rating" if k == "value" else k): v for k, v in r.items()
                if k != "event_id"} for r in rows]
    pq.write_table(pa.Table.from_pylist(renamed), path)
    return path


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()
