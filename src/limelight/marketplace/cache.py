"""Search results kept in memory, each under the search generation it was computed at.

``marketplace_generation`` (migration 0006) is bumped by the database on every write a search
could see, whichever process made it. A result is looked up under the generation read at the
start of the request, so a cached answer is exactly what running the search again would give:
nothing lags a write. What does change without a bump is left out: the usage order (traffic is
added up continuously), so a usage-sorted page is never cached, only its counts.

Each API process keeps its own LRU; entries are small (a page of ids, or the facet counts). Two
requests missing the same key both compute it and agree.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any, TypeVar

from cachetools import LRUCache
from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_ENTRIES = 2048


def generation(session: Session) -> int:
    """The current search generation; read first, so the search that follows sees at least it."""
    return int(session.execute(text("SELECT value FROM marketplace_generation WHERE id = 1")).scalar_one())


class SearchCache:
    """Search results by (generation, what was asked), for the process's lifetime, LRU-bounded."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: LRUCache[Hashable, Any] = LRUCache(maxsize=max_entries)
        self._lock = threading.Lock()  # sync routes run on a thread pool
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        """What was put under ``key``, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, key: Hashable, value: T) -> T:
        with self._lock:
            self._entries[key] = value
        return value
