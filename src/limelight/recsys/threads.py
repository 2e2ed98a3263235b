"""Thread settings for training on small boxes.

implicit's ALS/BPR run their own OpenMP threads; if OpenBLAS also spreads every small product over
all cores the two fight and training slows down up to 10x (implicit warns about it). So factor models
fit inside ``single_threaded_blas()``, while EASE's one big dense inversion keeps BLAS threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fit_threads", "single_threaded_blas"]


def fit_threads(requested: int = 0) -> int:
    """``requested`` if positive, else the cores this process may run on."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
