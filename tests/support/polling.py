"""Waiting for what a live server does in the background (flushes every 0.2 s, caches re-read every
second or two), without a fixed sleep: poll until the check holds or the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout_s: float = 15.0, every_s: float = 0.2) -> T:
    """The first truthy value of ``check()``, or its last value when ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)
