"""The API process's flusher: adds the rollup buffer's counts to the store every few seconds.

Started with the serving engine (``limelight.serving.lifecycle``) and flushed once more on
shutdown, after in-flight requests have drained, so a restart loses no counted request. It also
prunes rollups past their retention now and then; every process may do so, the deletes commute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from limelight.config import MonitoringSettings
from limelight.db.session import Database
from limelight.monitoring import service
from limelight.monitoring.rollups import Counts, RollupBuffer, RollupKey

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 600.0


class RollupRecorder:
    def __init__(self, buffer: RollupBuffer, db: Database, settings: MonitoringSettings,
                 clock: Callable[[], float] = time.time) -> None:
        self.buffer = buffer
        self._db = db
        self._settings = settings
        self._clock = clock
        self._pruned_at = 0.0

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.flush_interval_s)
            await self.flush()

    async def flush(self) -> None:
        """Write what is pending (taken on the event loop, where requests add to it; written off it)."""
        pending = self.buffer.take()
        if pending:
            try:
                await asyncio.to_thread(self._write, pending)
            except Exception as exc:  # noqa: BLE001 - a busy or unreachable store must not stop serving
                self.buffer.give_back(pending)
                log.warning("storing traffic rollups failed, retrying with the next flush: %s", exc)
        if self._clock() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = self._clock()
            try:
                await asyncio.to_thread(self._prune)
            except Exception as exc:  # noqa: BLE001 - retried at the next period
                log.warning("pruning traffic rollups failed: %s", exc)

    def _write(self, pending: dict[RollupKey, Counts]) -> None:
        with self._db.transaction() as session:
            service.store_counts(session, pending)

    def _prune(self) -> None:
        with self._db.transaction() as session:
            service.prune(session, minute_retention_days=self._settings.minute_retention_days,
                          hour_retention_days=self._settings.hour_retention_days, now_s=self._clock())
