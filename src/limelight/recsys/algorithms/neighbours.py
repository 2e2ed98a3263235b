"""Sparse item x item neighbour lists: all-pairs top-k similarity, and scoring with them.

The all-pairs product runs in implicit's multithreaded C++ ``all_pairs_knn`` (a heap of the k best
per item, never the dense n x n matrix); this module removes each item from its own list and keeps
only positive similarities, rows sorted by column so lookups are binary searches.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from limelight.recsys.threads import fit_threads

__all__ = ["co_counts", "explain_from_rows", "neighbour_matrix", "score_from_rows"]

SHRINK_CANDIDATES = 2  # with shrinkage, this many times ``neighbours`` candidates are re-ranked


def co_counts(item_users: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For each pair (rows[i], cols[i]): how many users interacted with both items."""
    binary = sp.csr_matrix(item_users, copy=True)
    binary.data[:] = 1.0
    return np.asarray(binary[rows].multiply(binary[cols]).sum(axis=1), dtype=np.float32).ravel()


def neighbour_matrix(item_vectors: sp.csr_matrix, neighbours: int, num_threads: int = 0, *,
                     shrinkage: float = 0.0) -> sp.csr_matrix:
    """Rows = items, each keeping its ``neighbours`` largest positive dot products with other items.

    ``item_vectors`` is items x users (already weighted/normalised as the similarity wants). With
    ``shrinkage`` s, a similarity resting on n common users is scaled by n / (n + s) (Koren's shrunk
    neighbourhood weights), so a pair that looks alike through two users ranks below one that does
    through two hundred; the best ``SHRINK_CANDIDATES * neighbours`` are re-ranked after shrinking.
    """
    from implicit.nearest_neighbours import all_pairs_knn

    n = item_vectors.shape[0]
    by_user = sp.csr_matrix(item_vectors.T, dtype=np.float64)
    candidates = neighbours * (SHRINK_CANDIDATES if shrinkage > 0 else 1)
    # one extra slot: an item is usually its own best match and is dropped below
    knn = all_pairs_knn(
        by_user, candidates + 1, show_progress=False, num_threads=fit_threads(num_threads)
    ).tocoo()
    keep = (knn.row != knn.col) & (knn.data > 0)
    rows, cols, vals = knn.row[keep], knn.col[keep], knn.data[keep].astype(np.float32)
    if shrinkage > 0:
        common = co_counts(item_vectors, rows, cols)
        vals = vals * common / (common + np.float32(shrinkage))
    order = np.lexsort((-vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(n))
    rank = np.arange(rows.shape[0]) - starts[rows]
    top = rank < neighbours
    sim = sp.csr_matrix((vals[top], (rows[top], cols[top])), shape=(n, n), dtype=np.float32)
    sim.sort_indices()
    return sim


def score_from_rows(sim: sp.csr_matrix, item_indices: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i weights[i] * sim[item_indices[i], :]`` as a dense float32 vector, without scipy overhead."""
    n = sim.shape[1]
    if item_indices.size == 0:
        return np.zeros(n, np.float32)
    starts = sim.indptr[item_indices]
    lengths = sim.indptr[item_indices + 1] - starts
    total = int(lengths.sum())
    # positions of every stored entry of the selected rows, in one vector
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    values = sim.data[offsets] * np.repeat(weights, lengths)
    return np.bincount(sim.indices[offsets], weights=values, minlength=n).astype(np.float32)


def explain_from_rows(
    sim: sp.csr_matrix, item_indices: np.ndarray, weights: np.ndarray, target: int
) -> list[tuple[int, float]]:
    """Each history item's ``weight * sim[item, target]`` (non-zero ones), largest first."""
    out: list[tuple[int, float]] = []
    for item, w in zip(item_indices.tolist(), weights.tolist(), strict=True):
        lo, hi = sim.indptr[item], sim.indptr[item + 1]
        pos = lo + int(np.searchsorted(sim.indices[lo:hi], target))
        if pos < hi and sim.indices[pos] == target:
            out.append((item, float(w * sim.data[pos])))
    out.sort(key=lambda pair: -pair[1])
    return out
