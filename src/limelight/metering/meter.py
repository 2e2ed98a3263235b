"""The API process's usage meter (``serving.ports.UsageMeter``): inference calls counted per calling
org, model and hour, and the monthly request quota enforced without a database read per request.

Counting: ``observe`` adds one call to an in-memory row on the event loop; every
``monitoring.flush_interval_s`` the rows are added to ``usage_hours`` off the loop
(``limelight.pending_counts``: given back on failure, flushed once more on shutdown), and hours past
``metering.retention_days`` are pruned.

Quotas: every ``QUOTA_REFRESH_S`` a thread re-reads the request quotas and this month's stored
requests of the orgs that have one. What an org has used is that number plus what this process
counted since: calls not yet written, and calls written after the last read began (tracked per org,
so a flush never makes counts vanish or count twice). Other processes' calls show up once they
flushed and this one re-read, a few seconds later: a quota may be passed by what the other
processes serve in that time, never by what this one serves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from limelight.config import MeteringSettings
from limelight.db.models.metering import USAGE_COLUMNS
from limelight.db.session import Database
from limelight.errors import RequestQuotaExceeded
from limelight.metering import repository, service
from limelight.metering.quotas import month_bounds
from limelight.pending_counts import CountBuffer, CountFlusher, Counts, count_request

log = logging.getLogger(__name__)
HOUR_S = 3600
QUOTA_REFRESH_S = 2.0
_REQUESTS, _PROMPT, _COMPLETION = 0, 3, 4  # columns of USAGE_COLUMNS


# (the caller's org id, hour start, org/name of the model called): a plain tuple, the cheapest key
UsageKey = tuple[str, int, str]


class UsageRecorder:
    def __init__(self, db: Database, settings: MeteringSettings, *, flush_interval_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._retention_days = settings.retention_days
        self._clock = clock
        self.buffer: CountBuffer[UsageKey] = CountBuffer(len(USAGE_COLUMNS))
        self.flusher = CountFlusher(self.buffer, write=self._store, prune=self._prune, interval_s=flush_interval_s,
                                    what="usage counts", clock=clock)
        self._limits: dict[str, int] = {}  # org id -> requests per month
        self._used: dict[str, int] = {}  # org id -> this month's requests stored, at the last read
        self._unseen: dict[str, int] = {}  # org id -> requests counted here that the last read did not see
        self._written: dict[str, int] = {}  # ... of which written since the last read began
        self._month = self._month_of(clock())
        self._fixed_headers: dict[str, list[tuple[bytes, bytes]]] = {}  # org id -> limit and reset headers

    # ---- the request path (event loop) ----------------------------------------------------------

    def observe(self, org_id: str, model: str, status: int, prompt_tokens: int, completion_tokens: int) -> None:
        counts = self.buffer.row((org_id, int(self._clock()) // HOUR_S * HOUR_S, model))
        if counts is None:
            return
        count_request(counts, status)
        counts[_PROMPT] += prompt_tokens
        counts[_COMPLETION] += completion_tokens
        self._unseen[org_id] = self._unseen.get(org_id, 0) + 1

    def admit(self, org_id: str) -> None:
        limit = self._limits.get(org_id)
        if limit is None:
            return
        used = self.used(org_id)
        if used >= limit:
            reset_s = self._month[1]
            resets_at = datetime.fromtimestamp(reset_s, UTC).isoformat()
            raise RequestQuotaExceeded(
                f"This org has used the {limit} inference requests of its monthly quota; it resets at {resets_at} "
                "(an administrator can raise it).", retry_after_s=max(1.0, reset_s - self._clock()),
                details={"quota": "requests_per_month", "limit": limit, "used": used, "resets_at": resets_at})

    def quota_headers(self, org_id: str, uncounted: int = 0) -> list[tuple[bytes, bytes]]:
        fixed = self._fixed_headers.get(org_id)
        if fixed is None:
            return []
        remaining = max(0, self._limits[org_id] - self.used(org_id) - uncounted)
        return [*fixed, (b"x-quota-requests-remaining", b"%d" % remaining)]

    def used(self, org_id: str) -> int:
        """The org's requests this month as this process knows them."""
        return self._used.get(org_id, 0) + self._unseen.get(org_id, 0)

    # ---- in the background ----------------------------------------------------------------------

    async def run_forever(self) -> None:
        flush_due = refresh_due = 0.0
        while True:
            await asyncio.sleep(min(self.flusher.interval_s, QUOTA_REFRESH_S))
            now = time.monotonic()
            if now >= flush_due:
                flush_due = now + self.flusher.interval_s
                await self.flush()
            if now >= refresh_due:
                refresh_due = now + QUOTA_REFRESH_S
                await self.refresh()

    async def flush(self) -> None:
        for (org_id, _, _), counts in (await self.flusher.flush()).items():
            self._written[org_id] = self._written.get(org_id, 0) + int(counts[_REQUESTS])

    async def refresh(self) -> None:
        """Re-read the request quotas and what the orgs having one used this month."""
        month = self._month_of(self._clock())
        if month != self._month:  # last month's requests no longer count
            self._month, self._used, self._unseen, self._written = month, {}, {}, {}
        written, self._written = self._written, {}
        try:
            limits, self._used = await asyncio.to_thread(self._read, month[0])
        except Exception as exc:  # noqa: BLE001 - serve on with the last numbers; retried soon
            for org_id, n in written.items():
                self._written[org_id] = self._written.get(org_id, 0) + n
            log.warning("reading request quotas failed, keeping the last ones: %s", exc)
            return
        self._limits = limits
        reset = (b"x-quota-reset", b"%d" % month[1])
        self._fixed_headers = {org_id: [(b"x-quota-requests-limit", b"%d" % limit), reset]
                               for org_id, limit in limits.items()}
        for org_id, n in written.items():  # the read saw them: they are in _used now
            left = self._unseen.get(org_id, 0) - n
            if left > 0:
                self._unseen[org_id] = left
            else:
                self._unseen.pop(org_id, None)

    def _read(self, month_start_s: int) -> tuple[dict[str, int], dict[str, int]]:
        with self._db.transaction(write=False) as session:
            limits = repository.request_quotas(session)
            return limits, repository.requests_since(session, limits, month_start_s)

    def _store(self, pending: dict[UsageKey, Counts]) -> None:
        with self._db.transaction() as session:
            service.store_usage(session, pending)

    def _prune(self, now_s: float) -> None:
        with self._db.transaction() as session:
            repository.prune_usage(session, int(now_s) - self._retention_days * 86400)

    @staticmethod
    def _month_of(now_s: float) -> tuple[int, int]:
        start, following = month_bounds(datetime.fromtimestamp(now_s, UTC))
        return int(start.timestamp()), int(following.timestamp())
