"""What a recipe sees of its job: inputs, an output path, progress, logs, cancellation."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limelight.db.session import Database
from limelight.errors import InvalidParams
from limelight.jobs import repository
from limelight.recipes.base import JobCancelled, LiveEvents, ModelInput

PROGRESS_MIN_INTERVAL_S = 0.5


@dataclass
class WorkerJobContext:
    job_id: str
    org: str
    org_id: str
    workdir: Path
    db: Database
    worker_id: str
    inputs: dict[str, Path]
    output: Path
    dataset: str | None = None  # the main dataset's name: its event stream is the job's live events
    model: dict[str, Any] | None = None  # a scoring job's model version: ref, version, runtime_params
    cancel_event: threading.Event = field(default_factory=threading.Event)
    lost_event: threading.Event = field(default_factory=threading.Event)
    _last_progress_at: float = 0.0

    def dataset_path(self, role: str = "main") -> Path:
        if role not in self.inputs:
            raise InvalidParams(f"This job has no {role!r} dataset.", details={"field": f"{role}_dataset"})
        return self.inputs[role]

    def has_dataset(self, role: str) -> bool:
        return role in self.inputs

    def output_path(self, suffix: str) -> Path:
        # The suffix is informational; the artifact is content-addressed once stored.
        return self.output

    def progress(self, percent: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last_progress_at < PROGRESS_MIN_INTERVAL_S and percent < 100:
            return
        self._last_progress_at = now
        with self.db.transaction() as session:
            repository.set_progress(session, self.job_id, self.worker_id, max(0.0, min(99.0, percent)), message)

    def log(self, message: str, level: str = "info") -> None:
        with self.db.transaction() as session:
            repository.add_log(session, self.job_id, message, level)

    def metric(self, values: dict[str, float], step: int, epoch: int | None = None) -> None:
        point = {"step": step, "epoch": epoch, **{k: _finite(v) for k, v in values.items()}}
        self.log(json.dumps(point, separators=(",", ":"), allow_nan=False), level="metric")

    def live_events(self) -> LiveEvents:
        from limelight.events import repository as events_repo

        rows: list[tuple[str, str, str, float | None, float]] = []
        last = 0
        if self.dataset is None:
            return LiveEvents(rows=rows, max_seq=last)
        with self.db.transaction(write=False) as session:
            while True:
                batch = events_repo.for_dataset(session, self.org_id, self.dataset, after_seq_=last)
                if not batch:
                    break
                rows += [(e.user_id, e.item_id, e.type, e.value, e.ts) for e in batch]
                last = batch[-1].seq
        return LiveEvents(rows=rows, max_seq=last, dataset=self.dataset)

    def model_input(self) -> ModelInput:
        from limelight.events.feed import EventFeed

        if self.model is None or "model" not in self.inputs:
            raise InvalidParams("This job reads no model version.", details={"field": "model"})
        feed = EventFeed(self.db, preload=1 << 62)  # every stored event, read once: the job's fixed view
        feed.catch_up(to_the_end=True)
        return ModelInput(ref=self.model["ref"], version=int(self.model["version"]), artifact=self.inputs["model"],
                          runtime_params=dict(self.model.get("runtime_params") or {}),
                          services={"event_feed": feed})

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()
        if self.lost_event.is_set():
            raise JobCancelled("lease lost")


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: such a value is recorded as null."""
    number = float(value)
    return number if math.isfinite(number) else None
