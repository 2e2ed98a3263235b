"""The API process's count of the items its recommenders showed, added to ``shown_item_weeks``.

The serving core hands over the item ids of every recommendation it answered (``serving.ports.
ItemLog``); counting is a dict update on the event loop, and the shared flusher (``pending_counts``)
writes the week's counts with an additive upsert, like the traffic rollups.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from limelight.config import MonitoringSettings
from limelight.db.models import ShownItemWeek
from limelight.db.session import Database
from limelight.db.upsert import add_counts
from limelight.monitoring import repository
from limelight.pending_counts import CountBuffer, CountFlusher, Counts

WEEK_S = 7 * 24 * 3600
_MONDAY_OFFSET_S = 3 * 24 * 3600  # 1970-01-01 was a Thursday, 3 days after a Monday; weeks start Monday 00:00 UTC
WEEKS_KEPT = 13
_MAX_ITEMS_PER_ANSWER = 200

Key = tuple[str, int, str]  # (org/name, week start, item id)


def week_start(unix_s: float) -> int:
    return (int(unix_s) + _MONDAY_OFFSET_S) // WEEK_S * WEEK_S - _MONDAY_OFFSET_S


class ShownItems:
    """``serving.ports.ItemLog``: counts per model, week and item, flushed every few seconds."""

    def __init__(self, db: Database, settings: MonitoringSettings, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buffer: CountBuffer[Key] = CountBuffer(1)
        self._db = db
        self._flusher = CountFlusher(self._buffer, write=self._write, prune=self._prune,
                                     interval_s=settings.flush_interval_s, what="shown items", clock=clock)

    def observe(self, model: str, items: Sequence[str]) -> None:
        week = week_start(self._clock())
        for item in items[:_MAX_ITEMS_PER_ANSWER]:
            counts = self._buffer.row((model, week, item[:256]))
            if counts is None:
                return
            counts[0] += 1

    async def run_forever(self) -> None:
        await self._flusher.run_forever()

    async def flush(self) -> None:
        await self._flusher.flush()

    def _write(self, pending: dict[Key, Counts]) -> None:
        with self._db.transaction() as session:
            ids = repository.model_ids(session, {model for model, _, _ in pending})
            rows = sorted(({"model_id": ids[model][1], "week_s": week, "item_id": item, "shown": int(c[0])}
                           for (model, week, item), c in pending.items() if model in ids),
                          key=lambda r: (r["model_id"], r["week_s"], r["item_id"]))
            add_counts(session, ShownItemWeek.__table__, ("model_id", "week_s", "item_id"), ("shown",),  # type: ignore[arg-type]
                       rows)

    def _prune(self, now_s: float) -> None:
        with self._db.transaction() as session:
            repository.prune_shown_items(session, before_s=week_start(now_s) - WEEKS_KEPT * WEEK_S)
