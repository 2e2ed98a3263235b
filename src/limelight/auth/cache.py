"""A short-lived cache of verified API keys, so the inference hot path needs no database read.

A revoke, or a change of a member's role or membership, in this process drops the entries at
once; other processes see it within ``ttl_s``. An
entry never outlives its key's own expiry. Entries are keyed by the key's SHA-256, so the cache
holds no usable secret; the least recently used entry goes first when it is full.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from cachetools import TLRUCache

from limelight.auth.principal import Principal


def _expiry(_key: str, value: tuple[float, Principal], _now: float) -> float:
    return value[0]


class KeyCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._timer = timer
        self._entries: TLRUCache[str, tuple[float, Principal]] = TLRUCache(
            maxsize=max_entries, ttu=_expiry, timer=timer)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe

    def get(self, raw_key: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(_digest(raw_key))
        return None if entry is None else entry[1]

    def put(self, raw_key: str, principal: Principal, valid_until_monotonic: float | None = None) -> None:
        if self.ttl_s <= 0:
            return
        expiry = self._timer() + self.ttl_s
        if valid_until_monotonic is not None:
            expiry = min(expiry, valid_until_monotonic)
        with self._lock:
            self._entries[_digest(raw_key)] = (expiry, principal)

    def drop_key_id(self, key_id: str) -> None:
        with self._lock:
            for digest in [d for d, (_, p) in self._entries.items() if p.key_id == key_id]:
                self._entries.pop(digest, None)

    def drop_member(self, org_id: str, username: str) -> None:
        """Forget the keys of one member of one org, whose role there changed or ended."""
        with self._lock:
            for digest in [d for d, (_, p) in self._entries.items() if p.org_id == org_id and p.username == username]:
                self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()
