"""Batch scoring: every user the model knows, ranked by probability (most likely first).

The ranked list is what a retention team works from: the highest churn risk first, with the
strongest reason in words. ``:score`` answers it as JSON; ``limelight score-users --dataset``
writes it to CSV or Parquet and uploads it as a ``users`` dataset (``user_id`` is its key).
"""

from __future__ import annotations

from typing import Any

from limelight.behaviour.runtime import BehaviourRuntime

CHUNK = 512


def ranked(runtime: BehaviourRuntime, as_of: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Every known user with history before ``as_of``, most likely first (ties by user id)."""
    users = runtime.known_users()
    moment = runtime.default_as_of() if as_of is None else as_of
    scored: list[dict[str, Any]] = []
    for start in range(0, len(users), CHUNK):
        chunk = users[start:start + CHUNK]
        scored += [p for p in runtime.predict_users(chunk, [moment] * len(chunk)) if not p["no_history"]]
    scored.sort(key=lambda p: (-p["probability"], p["user_id"]))
    rows = [{"rank": rank, "user_id": p["user_id"], "probability": p["probability"],
             "top_reason": p["reasons"][0]["text"] if p["reasons"] else "",
             "reasons": "; ".join(r["text"] for r in p["reasons"])}
            for rank, p in enumerate(scored, start=1)]
    return rows[:limit] if limit is not None else rows

