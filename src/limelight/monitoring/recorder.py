"""The API process's flusher of traffic rollups: adds the rollup buffer's counts to the store every
``monitoring.flush_interval_s`` and prunes rollups past their retention (``limelight.pending_counts``).

Started with the serving engine (``limelight.serving.lifecycle``) and flushed once more on shutdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limelight.config import MonitoringSettings
from limelight.db.session import Database
from limelight.monitoring import service
from limelight.monitoring.rollups import RollupBuffer, RollupKey
from limelight.pending_counts import CountFlusher, Counts


class RollupRecorder(CountFlusher[RollupKey]):
    def __init__(self, buffer: RollupBuffer, db: Database, settings: MonitoringSettings,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(buffer, write=self._store, prune=self._prune_before, interval_s=settings.flush_interval_s,
                         what="traffic rollups", clock=clock)
        self._db = db
        self._settings = settings

    def _store(self, pending: dict[RollupKey, Counts]) -> None:
        with self._db.transaction() as session:
            service.store_counts(session, pending)

    def _prune_before(self, now_s: float) -> None:
        with self._db.transaction() as session:
            service.prune(session, minute_retention_days=self._settings.minute_retention_days,
                          hour_retention_days=self._settings.hour_retention_days, now_s=now_s)
