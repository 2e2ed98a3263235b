"""A short-lived cache of verified API keys, so the inference hot path needs no database read.

A revoke in this process drops the entry at once; other processes see it within ``ttl_s``.
"""

from __future__ import annotations

import threading
import time

from limelight.auth.principal import Principal


class KeyCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, raw_key: str) -> Principal | None:
        entry = self._entries.get(raw_key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, raw_key: str, principal: Principal, valid_until_monotonic: float | None = None) -> None:
        if self.ttl_s <= 0:
            return
        expiry = time.monotonic() + self.ttl_s
        if valid_until_monotonic is not None:
            expiry = min(expiry, valid_until_monotonic)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[raw_key] = (expiry, principal)

    def drop_key_id(self, key_id: str) -> None:
        with self._lock:
            for raw in [raw for raw, (_, p) in self._entries.items() if p.key_id == key_id]:
                del self._entries[raw]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
