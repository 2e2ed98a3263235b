"""Tiny behaviour data for tests: a seeded audience where some users fade out and stop (churn)."""

from __future__ import annotations

from typing import Any

DAY_S = 86_400


def audience(n_users: int = 240, seed: int = 3) -> Any:
    from limelight.recsys.synthetic import generate_catalog

    return generate_catalog(n_items=120, n_users=n_users, seed=seed, churn_fraction=0.4, days=365,
                            mean_events_per_user=20)


def profiles(catalog: Any) -> list[dict[str, Any]]:
    """A users table: a categorical plan and a numeric age, both derived from the id (no label in it)."""
    plans = ("free", "family", "premium")
    return [{"user_id": u["user_id"], "plan": plans[int(u["user_id"][1:]) % 3],
             "age": 18 + int(u["user_id"][1:]) % 50} for u in catalog.users]
