"""Offline evaluation of content-based cold start (``recommend/hybrid``), on an item split.

Protocol (one fit serves both measurements):

1. Cold split. ``cold_fraction`` of the items that have interactions (seeded, uniformly at random)
   are held out *entirely*: all their interactions leave the training data, so to the model they
   are catalog items nobody has touched.
2. Warm split. The remaining interactions get the usual per-user holdout
   (``evaluation.holdout_split``, ``test_fraction``); the base model is fitted on its train part
   and the hybrid is that model with the cold items projected in.
3. Cold ranking. Test users: users with at least one positive interaction with a held-out item
   and at least one training interaction. Candidates: the held-out items only (a user has none of
   them in their training history). Relevant: the held-out items the user interacted with, with
   positive weight. NDCG@k and Recall@k (binary gains, as in ``evaluation``) averaged over users.
   The baseline is what a system without content can do with items nobody interacted with: every
   score is equal, so their order is arbitrary; it is measured as a uniformly random order, averaged
   over ``BASELINE_DRAWS`` seeded shuffles. (Popularity gives all of them 0, the same thing.)
4. Warm ranking. Full-ranking NDCG@k on the warm holdout (``evaluation.evaluate``) of the base
   model and of the hybrid with the warm items (those with training interactions) as candidates: equal by construction (the hybrid
   keeps the base model's warm scores), reported so a regression would show.
5. Overall ranking. Full-ranking NDCG@k over the whole catalog (warm and held-out items) where
   the relevant items are the warm holdout plus the user's held-out cold items: what a user sees.
   The base model gives every cold item the same uninformed score, the hybrid places them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.errors import InvalidParams
from limelight.recsys.evaluation import evaluate, holdout_split, ndcg_at_k, recall_at_k
from limelight.recsys.ranking import top_k_rows

__all__ = ["ColdStartReport", "evaluate_cold_start", "item_holdout"]

BASELINE_DRAWS = 10
SCORE_BLOCK_USERS = 512


@dataclass(frozen=True)
class ColdStartReport:
    k: int
    cold_ndcg: float
    cold_ndcg_baseline: float
    cold_recall: float
    cold_recall_baseline: float
    cold_users: int
    cold_items: int
    warm_ndcg: float
    warm_ndcg_base: float
    warm_recall: float
    warm_recall_base: float
    overall_ndcg: float
    overall_ndcg_base: float

    def metrics(self) -> dict[str, float]:
        """Flat names for a version's metrics: ``cold_ndcg_at_10``, ``cold_ndcg_at_10_baseline``, …"""
        k = self.k
        return {
            f"cold_ndcg_at_{k}": self.cold_ndcg, f"cold_ndcg_at_{k}_baseline": self.cold_ndcg_baseline,
            f"cold_recall_at_{k}": self.cold_recall, f"cold_recall_at_{k}_baseline": self.cold_recall_baseline,
            "cold_users_evaluated": self.cold_users, "cold_items_evaluated": self.cold_items,
            f"warm_ndcg_at_{k}": self.warm_ndcg, f"warm_ndcg_at_{k}_base": self.warm_ndcg_base,
            f"warm_recall_at_{k}": self.warm_recall, f"warm_recall_at_{k}_base": self.warm_recall_base,
            f"overall_ndcg_at_{k}": self.overall_ndcg, f"overall_ndcg_at_{k}_base": self.overall_ndcg_base,
        }


def item_holdout(matrix: sp.csr_matrix, fraction: float, seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """The matrix without the interactions of a random ``fraction`` of its items, and those items."""
    if not 0.0 < fraction < 1.0:
        raise InvalidParams("cold_fraction must be in (0, 1)")
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    warm = np.flatnonzero(np.diff(sp.csc_matrix(matrix).indptr) > 0)
    n_held = int(round(warm.shape[0] * fraction))
    if n_held < 1 or n_held >= warm.shape[0]:
        raise InvalidParams("too few items with interactions to hold some out", details={"items": int(warm.shape[0])})
    held = np.sort(np.random.default_rng(seed).choice(warm, n_held, replace=False))
    keep = np.ones(matrix.shape[1], np.float32)
    keep[held] = 0.0
    train = sp.csr_matrix(matrix @ sp.diags(keep))
    train.eliminate_zeros()
    return train, held


class _Restricted:
    """A model whose scores of the ``hidden`` items are -inf (for ``evaluate``'s full ranking)."""

    def __init__(self, model: Any, hidden: np.ndarray) -> None:
        self.model, self.hidden = model, hidden

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        scores = np.array(self.model.score_users(users, user_items), dtype=np.float32)
        scores[:, self.hidden] = -np.inf
        return scores


def _cold_ranking(model: Any, train: sp.csr_matrix, full: sp.csr_matrix, held: np.ndarray, k: int,
                  seed: int) -> tuple[float, float, float, float, int]:
    relevant = sp.csr_matrix(full[:, held] > 0)
    n_relevant = np.diff(relevant.indptr)
    users = np.flatnonzero((n_relevant > 0) & (np.diff(train.indptr) > 0))
    rng = np.random.default_rng(seed)
    sums = np.zeros(4)
    for start in range(0, users.shape[0], SCORE_BLOCK_USERS):
        batch = users[start : start + SCORE_BLOCK_USERS]
        rel, n_rel = relevant[batch].toarray(), n_relevant[batch]
        scores = np.array(model.score_users(batch, train[batch]), dtype=np.float32)[:, held]
        hits = np.take_along_axis(rel, top_k_rows(scores, k), axis=1)
        sums[:2] += [ndcg_at_k(hits, n_rel).sum(), recall_at_k(hits, n_rel).sum()]
        for _ in range(BASELINE_DRAWS):
            random_hits = np.take_along_axis(rel, top_k_rows(rng.random(rel.shape), k), axis=1)
            sums[2:] += [ndcg_at_k(random_hits, n_rel).sum() / BASELINE_DRAWS,
                         recall_at_k(random_hits, n_rel).sum() / BASELINE_DRAWS]
    n = max(users.shape[0], 1)
    return float(sums[0] / n), float(sums[1] / n), float(sums[2] / n), float(sums[3] / n), int(users.shape[0])


def evaluate_cold_start(matrix: sp.csr_matrix, embeddings: np.ndarray, params: Any, *, k: int = 10,
                        cold_fraction: float = 0.15, test_fraction: float = 0.2, seed: int = 42) -> ColdStartReport:
    """Cold and warm NDCG@k of a ``recommend/hybrid`` configuration (see the module docstring)."""
    from limelight.recsys.algorithms import create
    from limelight.recsys.algorithms.hybrid import Hybrid

    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    known, held = item_holdout(matrix, cold_fraction, seed)
    split = holdout_split(known, test_fraction=test_fraction, seed=seed)
    overall_test = split.test + (matrix - known)  # the warm holdout plus every held-out cell
    cold = np.flatnonzero(np.diff(sp.csc_matrix(split.train).indptr) == 0)  # held out or never touched
    base = create(params.base, params.base_params).fit(split.train)
    warm_base = evaluate(_Restricted(base, cold), split.train, split.test, k=k)  # type: ignore[arg-type]
    overall_base = evaluate(base, split.train, overall_test, k=k)
    hybrid = Hybrid(params, embeddings).attach(base, split.train)  # projects into ``base`` in place
    warm_hybrid = evaluate(_Restricted(hybrid, cold), split.train, split.test, k=k)  # type: ignore[arg-type]
    overall_hybrid = evaluate(hybrid, split.train, overall_test, k=k)
    ndcg, recall, ndcg_random, recall_random, users = _cold_ranking(hybrid, split.train, matrix, held, k, seed)
    return ColdStartReport(
        k=k, cold_ndcg=ndcg, cold_ndcg_baseline=ndcg_random, cold_recall=recall, cold_recall_baseline=recall_random,
        cold_users=users, cold_items=int(held.shape[0]), warm_ndcg=warm_hybrid.ndcg, warm_ndcg_base=warm_base.ndcg,
        warm_recall=warm_hybrid.recall, warm_recall_base=warm_base.recall,
        overall_ndcg=overall_hybrid.ndcg, overall_ndcg_base=overall_base.ndcg,
    )
