"""Offline evaluation: per-user holdout splits and full-ranking top-k metrics.

Protocol. Every user keeps some interactions for training and holds out ``round(n * test_fraction)``
of them (never all: ``min_train`` stay). ``by="random"`` picks the held-out ones at random (seeded);
``by="time"`` holds out each user's latest ones. A model fitted on ``train`` then ranks, for every
user with at least one positive held-out interaction, *all* items the user has no training
interaction with (no negative sampling); metrics are averaged over those users.

Metrics, with binary relevance (a held-out cell with positive weight is relevant):

* NDCG@k: DCG of the top k (gain 1, discount 1/log2(rank+1)) over the ideal DCG of
  min(|relevant|, k) hits.
* Recall@k: hits in the top k / |relevant| (the plain definition, so it is low when users hold out
  many items: with 40 relevant items the best possible Recall@10 is 0.25).
* MAP@k: mean over users of AP@k = sum over hit ranks r of precision@r, divided by min(|relevant|, k).
* coverage@k: share of the catalog that appears in at least one user's top k.
* popularity_bias@k: mean popularity percentile of the recommended items, where an item's percentile
  is its average rank by training popularity (users with a positive interaction) divided by the
  catalog size: about 0.5 for items drawn uniformly from the catalog, near 1.0 for "the bestsellers".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from limelight.errors import InvalidParams
from limelight.recsys.base import Recommender
from limelight.recsys.ranking import top_k_rows

__all__ = [
    "RankingMetrics",
    "Split",
    "average_precision_at_k",
    "evaluate",
    "holdout_split",
    "ndcg_at_k",
    "popularity_percentiles",
    "recall_at_k",
]

SCORE_BLOCK_BYTES = 64 << 20


@dataclass(frozen=True)
class Split:
    train: sp.csr_matrix
    test: sp.csr_matrix
    train_timestamps: np.ndarray | None = None
    test_timestamps: np.ndarray | None = None


def holdout_split(
    matrix: sp.csr_matrix,
    *,
    test_fraction: float = 0.25,
    seed: int = 42,
    by: Literal["random", "time"] = "random",
    timestamps: np.ndarray | None = None,
    min_train: int = 1,
) -> Split:
    """Split each user's interactions (cells of ``matrix``) into train and test, disjointly."""
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParams("test_fraction must be in (0, 1)")
    if by == "time" and timestamps is None:
        raise InvalidParams("a split by time needs timestamps")
    matrix = sp.csr_matrix(matrix)
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    rng = np.random.default_rng(seed)
    noise = rng.random(matrix.nnz)
    keys = (noise,) if by == "random" else (noise, np.asarray(timestamps))  # random breaks time ties
    order = np.lexsort((*keys, rows))
    position = np.empty(matrix.nnz, np.int64)
    position[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    n_test = np.minimum(np.floor(counts * test_fraction + 0.5), np.maximum(counts - min_train, 0)).astype(
        np.int64
    )
    # random: the first n_test of a random order; time: the last n_test by time
    is_test = position < n_test[rows] if by == "random" else position >= (counts - n_test)[rows]
    ts = None if timestamps is None else np.asarray(timestamps)
    return Split(
        train=_select(matrix, ~is_test),
        test=_select(matrix, is_test),
        train_timestamps=None if ts is None else ts[~is_test],
        test_timestamps=None if ts is None else ts[is_test],
    )


def _select(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.zeros(matrix.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Per-user NDCG from a (users, k) boolean hit matrix (ranked best first)."""
    k = hits.shape[1]
    disc = _discounts(k)
    ideal = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(n_relevant, k)]
    return np.divide((hits * disc).sum(axis=1), ideal, out=np.zeros(hits.shape[0]), where=ideal > 0)


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return np.divide(hits.sum(axis=1), n_relevant, out=np.zeros(hits.shape[0]), where=n_relevant > 0)


def average_precision_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    k = hits.shape[1]
    precision = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    denom = np.minimum(n_relevant, k)
    return np.divide((precision * hits).sum(axis=1), denom, out=np.zeros(hits.shape[0]), where=denom > 0)


def popularity_percentiles(train: sp.csr_matrix) -> np.ndarray:
    from scipy.stats import rankdata

    counts = np.bincount(train.indices[train.data > 0], minlength=train.shape[1])
    return (rankdata(counts, method="average") / max(train.shape[1], 1)).astype(np.float64)


@dataclass(frozen=True)
class RankingMetrics:
    k: int
    ndcg: float
    recall: float
    map: float
    coverage: float
    popularity_bias: float
    users: int

    def as_dict(self) -> dict[str, float]:
        """Flat names for registries and tables: ``ndcg@10``, ``recall@10``, ..., ``users``."""
        out: dict[str, float] = {f"{name}@{self.k}": value for name, value in asdict(self).items()}
        del out[f"k@{self.k}"], out[f"users@{self.k}"]
        out["users"] = self.users
        return out


def evaluate(model: Recommender, train: sp.csr_matrix, test: sp.csr_matrix, *, k: int = 10) -> RankingMetrics:
    """Full-ranking metrics of a model fitted on ``train`` (see the module docstring)."""
    relevant = sp.csr_matrix(test > 0)
    n_relevant_all = np.diff(relevant.indptr)
    users = np.flatnonzero(n_relevant_all > 0)
    n_items = train.shape[1]
    block = max(1, SCORE_BLOCK_BYTES // (4 * max(n_items, 1)))
    sums = np.zeros(3)
    recommended = np.zeros(n_items, bool)
    percentiles = popularity_percentiles(train)
    pop_sum = 0.0
    for start in range(0, users.shape[0], block):
        batch = users[start : start + block]
        history = train[batch]
        scores = np.array(model.score_users(batch, history), dtype=np.float32)
        top = top_k_rows(scores, k, exclude_rows=history)
        hits = np.take_along_axis(relevant[batch].toarray(), top, axis=1)
        n_rel = n_relevant_all[batch]
        sums += [
            ndcg_at_k(hits, n_rel).sum(),
            recall_at_k(hits, n_rel).sum(),
            average_precision_at_k(hits, n_rel).sum(),
        ]
        recommended[top.ravel()] = True
        pop_sum += float(percentiles[top].sum())
    n = max(users.shape[0], 1)
    return RankingMetrics(
        k=k,
        ndcg=float(sums[0] / n),
        recall=float(sums[1] / n),
        map=float(sums[2] / n),
        coverage=float(recommended.mean()) if n_items else 0.0,
        popularity_bias=pop_sum / (n * min(k, n_items)) if n_items else 0.0,
        users=int(users.shape[0]),
    )
