"""The API process's exposure log: each request an experiment routed, written in batches.

``observe`` runs on the event loop for every such request, so it only appends to a list; the
recorder writes the list every second off the loop and puts it back when the store is busy, like the
traffic rollups. A request's exposure is therefore durable about a second after its answer, which is
sooner than any client sends the click that cites it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from limelight.db.session import Database
from limelight.experiments import repository
from limelight.serving.ports import Arm

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 1.0
_MAX_PENDING = 200_000  # about a minute of a busy server's experiment traffic with the store down


class ExposureRecorder:
    """``serving.ports.ExposureLog`` for the engine, and its flusher."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._pending: list[dict[str, Any]] = []

    def observe(self, arm: Arm, request_id: str, status: int, seconds: float) -> None:
        if len(self._pending) >= _MAX_PENDING:
            return  # the store has been unreachable for long: drop rather than grow without bound
        self._pending.append({"experiment_id": arm.experiment_id, "request_id": request_id, "variant": arm.variant,
                              "end_user": arm.end_user[:256] if arm.end_user else None, "status": status,
                              "latency_ms": round(seconds * 1000.0, 3), "ts": self._clock()})

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            await asyncio.to_thread(self._write, pending)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable store must not stop serving
            self._pending = pending + self._pending
            log.warning("storing experiment exposures failed, retrying with the next flush: %s", exc)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self._db.transaction() as session:
            repository.add_exposures(session, rows)
