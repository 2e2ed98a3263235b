"""Recent events per end user, kept in each API process, so recommendations fold them in at once.

Events acknowledged by this process are pushed in directly; events stored by other processes
arrive by tailing the events table (``seq`` increases) every ``poll_s``. The hot path reads
memory only. Each entry remembers its ``seq`` so a model folds in only what it was not trained on
(a pushed event's seq is unknown until the tail sees it, and it is newer than any model), and its
dataset, so a model folds in only the events of the dataset it was trained on.

Erasures travel the same way: the process that forgets an end user drops them here at once, and
every other process drops them when its tail sees the ``end_user.forget_events`` audit entry, written in
the same transaction that deleted the events. So no API process keeps folding in a forgotten
user's events once the erasure has committed and one poll has passed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from limelight.audit import repository as audit_repository
from limelight.db.models import Org
from limelight.db.session import Database
from limelight.events import repository

log = logging.getLogger("limelight.events")

PENDING_SEQ = math.inf  # pushed here, not yet seen by the tail
FORGET_ACTION = "end_user.forget_events"  # written where the events are deleted; object_id "<org>/<user id>"


@dataclass(frozen=True)
class LiveEvent:
    event_id: str
    item_id: str
    type: str
    value: float | None
    seq: float
    dataset: str | None = None
    ts: float | None = None  # when it happened (epoch seconds): behaviour features count by time


class EventFeed:
    def __init__(self, db: Database, *, poll_s: float = 0.2, max_users: int = 200_000, per_user: int = 200,
                 preload: int = 100_000) -> None:
        self._db = db
        self._poll_s = poll_s
        self._max_users = max_users
        self._per_user = per_user
        self._preload = preload
        self._users: OrderedDict[tuple[str, str], OrderedDict[str, LiveEvent]] = OrderedDict()
        self._org_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_seq = 0
        self._last_audit_seq = 0

    # ---- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.catch_up()
        self._thread = threading.Thread(target=self._run, name="event-feed", daemon=True)
        self._thread.start()

    def catch_up(self, *, to_the_end: bool = False) -> None:
        """Reads from ``preload`` events back: one poll's worth, or ``to_the_end`` every stored event up
        to now (a batch job's fixed view, with no tail after it)."""
        with self._db.transaction(write=False) as session:
            self._last_seq = max(0, repository.max_seq(session) - self._preload)
            self._last_audit_seq = audit_repository.last_seq(session)  # older erasures: their events are gone
        while self._tail_once() and to_the_end:
            pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self._tail_once()
            except Exception as exc:  # noqa: BLE001 - keep tailing through a busy database
                log.warning("event feed poll failed: %s", exc)

    def _tail_once(self) -> int:
        """Folds in the next page of stored events; how many it read."""
        with self._db.transaction(write=False) as session:
            rows = repository.after_seq(session, self._last_seq)
            erasures = audit_repository.actions_after(session, FORGET_ACTION, self._last_audit_seq)
        with self._lock:
            for row in rows:
                self._add(row.org_id, row.user_id,
                          LiveEvent(row.event_id, row.item_id, row.type, row.value, row.seq, row.dataset,
                                    row.ts))
            # after this poll's events, so one read just before its deletion does not survive (a new
            # event of the same user in this poll goes too: it stays in the database for training)
            for _, org_id, object_id in erasures:
                if org_id is not None and "/" in object_id:
                    self._users.pop((org_id, object_id.split("/", 1)[1]), None)
        if rows:
            self._last_seq = rows[-1].seq
        if erasures:
            self._last_audit_seq = erasures[-1][0]
        return len(rows)

    # ---- writes ---------------------------------------------------------------------------------

    def push(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            for row in rows:
                self._add(row["org_id"], row["user_id"], LiveEvent(row["event_id"], row["item_id"], row["type"],
                                                                   row["value"], PENDING_SEQ, row.get("dataset"),
                                                                   row.get("ts")))

    def forget(self, org_id: str, user_id: str) -> None:
        with self._lock:
            self._users.pop((org_id, user_id), None)

    def _add(self, org_id: str, user_id: str, event: LiveEvent) -> None:
        key = (org_id, user_id)
        events = self._users.get(key)
        if events is None:
            events = self._users[key] = OrderedDict()
            if len(self._users) > self._max_users:
                self._users.popitem(last=False)
        else:
            self._users.move_to_end(key)
        known = events.get(event.event_id)
        if known is None or event.seq < known.seq:  # the tail replaces a pending push with its seq
            events[event.event_id] = event
        if len(events) > self._per_user:
            events.popitem(last=False)

    # ---- reads (hot path) -----------------------------------------------------------------------

    def org_id(self, org_name: str) -> str | None:
        found = self._org_ids.get(org_name)
        if found is None:
            with self._db.transaction(write=False) as session:
                found = session.scalar(select(Org.id).where(Org.name == org_name))
            if found is not None:
                self._org_ids[org_name] = found
        return found

    def history(self, org_id: str, user_id: str, *, after_seq: int = 0, dataset: str | None = None,
                any_dataset: bool = False) -> list[LiveEvent]:
        """The user's events after ``after_seq`` of one dataset's stream (or of all, ``any_dataset``)."""
        with self._lock:
            events = self._users.get((org_id, user_id))
            if not events:
                return []
            return [e for e in events.values() if e.seq > after_seq and (any_dataset or e.dataset == dataset)]
