"""Top-k selection over a score vector or a score matrix, with exclusions and candidate masks.

Selection uses ``np.argpartition`` (linear) and sorts only the k winners. Excluded items and items
outside the candidate mask are set to -inf and never returned, so a result may hold fewer than k
items when fewer candidates remain.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import scipy.sparse as sp

__all__ = ["ExcludeLike", "apply_filters", "as_index_array", "top_k", "top_k_rows"]

ExcludeLike = Collection[int] | np.ndarray | None


def as_index_array(items: ExcludeLike) -> np.ndarray | None:
    if items is None:
        return None
    if isinstance(items, np.ndarray):
        return items.ravel() if items.dtype.kind in "iu" else items.astype(np.int64).ravel()
    return np.fromiter(items, dtype=np.int64, count=len(items))


def apply_filters(scores: np.ndarray, exclude: ExcludeLike, candidate_mask: np.ndarray | None) -> None:
    """Set excluded and non-candidate items to -inf, in place."""
    if candidate_mask is not None:
        if candidate_mask.shape != scores.shape[-1:] or candidate_mask.dtype != np.bool_:
            raise ValueError("candidate_mask must be a boolean array with one entry per item")
        np.copyto(scores, -np.inf, where=~candidate_mask)
    idx = as_index_array(exclude)
    if idx is not None and idx.size:
        scores[..., idx] = -np.inf


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best finite entries of a 1-d vector, best first."""
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    # Partition the negated scores at k-1, not the scores at n-k: numpy's introselect degrades ~20x
    # when the split point falls inside a long run of ties (the zeros of a sparse item-kNN score vector).
    idx = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    best = scores[idx]
    order = np.argsort(-best, kind="stable")
    idx, best = idx[order], best[order]
    keep = best > -np.inf
    return idx[keep].astype(np.int64), best[keep].astype(np.float32)


def top_k_rows(scores: np.ndarray, k: int, exclude_rows: sp.csr_matrix | None = None) -> np.ndarray:
    """Best-k column indices per row of a dense score matrix (in place), best first.

    ``exclude_rows`` is a CSR matrix with the same shape whose stored cells are excluded (the training
    interactions when evaluating). Excluded cells may still appear at the end of a row when a row has
    fewer than k candidates; callers score them as misses.
    """
    if exclude_rows is not None and exclude_rows.nnz:
        coo = exclude_rows.tocoo()
        scores[coo.row, coo.col] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # see top_k about ties
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
