"""Small planted data sets: two taste clusters plus a few items everybody likes.

Users 0-99 (cluster A) interact with 12 of items 0-39, users 100-199 (cluster B) with 12 of items
40-79; items 80-89 are "blockbusters" each user has with probability 0.3; items 90-119 get only
uniform noise (one random item per user). A good recommender fills an A user's list with unseen A
items and blockbusters, hardly any B item; popularity puts the blockbusters first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from limelight.recsys.interactions import Interactions, build_interactions

CLUSTER_A = np.arange(0, 40)
CLUSTER_B = np.arange(40, 80)
BLOCKBUSTERS = np.arange(80, 90)
N_USERS, N_ITEMS = 200, 120
RECIPES = ["popularity", "itemknn", "als", "bpr", "ease"]
PERSONALISED = ["itemknn", "als", "bpr", "ease"]
SMALL_PARAMS = {  # sized for the planted data
    "als": {"factors": 16, "regularization": 1.0},
    "bpr": {"factors": 16, "learning_rate": 0.05, "num_threads": 1},  # hogwild SGD on 2+ threads is not repeatable
    "ease": {"l2": 10.0},
}


@dataclass(frozen=True)
class Planted:
    interactions: Interactions

    def user_id(self, row: int) -> str:
        return f"u{row:03d}"

    def item_id(self, column: int) -> str:
        return f"i{column:03d}"


def make_planted(seed: int = 0) -> Planted:
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(N_USERS):
        cluster = CLUSTER_A if u < 100 else CLUSTER_B
        chosen = list(rng.choice(cluster, 12, replace=False))
        chosen += [b for b in BLOCKBUSTERS if rng.random() < 0.3]
        chosen.append(int(rng.integers(0, N_ITEMS)))
        users += [u] * len(chosen)
        items += chosen
    timestamps = 1_700_000_000 + rng.integers(0, 90 * 86_400, len(users))
    inter = build_interactions(
        [f"u{u:03d}" for u in users],
        [f"i{i:03d}" for i in items],
        None,
        timestamps,
        item_catalog=[f"i{i:03d}" for i in range(N_ITEMS)],
    )
    return Planted(inter)


@pytest.fixture(scope="session")
def planted() -> Planted:
    return make_planted()


def cluster_counts(items: np.ndarray) -> tuple[int, int, int]:
    """How many of ``items`` are in cluster A, cluster B and the blockbusters."""
    return (
        int(np.isin(items, CLUSTER_A).sum()),
        int(np.isin(items, CLUSTER_B).sum()),
        int(np.isin(items, BLOCKBUSTERS).sum()),
    )
