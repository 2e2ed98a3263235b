"""Runs a test's coroutine on an event loop with a fake clock (looptime).

Timers, sleeps and timeouts fire at once and exactly in loop time, and work done in threads takes
no loop time at all, so a test asserts on ``asyncio.get_running_loop().time()`` (exact figures)
instead of sleeping and measuring the wall clock. ``end_s`` is the loop's end of time: a test that
would wait past it fails instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import looptime

T = TypeVar("T")


def run_in_loop_time(main: Callable[[], Coroutine[Any, Any, T]], *, end_s: float = 120.0) -> T:
    with asyncio.Runner(loop_factory=lambda: looptime.new_event_loop(start=0.0, end=end_s)) as runner:
        return runner.run(main())


def loop_now() -> float:
    return asyncio.get_running_loop().time()
