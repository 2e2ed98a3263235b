"""BM25 confidence weighting of a users x items matrix, reproducible for one new history at serving.

ALS reads cell values as confidences. Raw counts let heavy users and blockbusters dominate; BM25
(as in implicit's ``bm25_weight``, applied to user rows) damps both: ``idf`` per item lowers
blockbusters, ``k1`` saturates repeated interactions, ``b`` normalises by the user's history length.
Negative cells (skips) are weighted by magnitude and keep their sign. The fitted state (idf per item
and the mean history length) is stored, so a folded-in user gets exactly the training transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Bm25Confidence"]


@dataclass(frozen=True)
class Bm25Confidence:
    idf: np.ndarray  # float32, one per item
    mean_length: float
    k1: float
    b: float

    @classmethod
    def fit(cls, matrix: sp.csr_matrix, k1: float, b: float) -> Bm25Confidence:
        n_users = max(matrix.shape[0], 1)
        item_counts = np.bincount(matrix.indices, minlength=matrix.shape[1])
        idf = np.maximum(np.log(n_users) - np.log1p(item_counts), 0.0).astype(np.float32)
        lengths = _row_lengths(matrix)
        mean_length = float(lengths.mean()) if lengths.size else 1.0
        return cls(idf=idf, mean_length=max(mean_length, 1e-12), k1=k1, b=b)

    def _weigh(self, data: np.ndarray, items: np.ndarray, row_lengths: np.ndarray) -> np.ndarray:
        mag = np.abs(data).astype(np.float64)
        norm = (1.0 - self.b) + self.b * row_lengths / self.mean_length
        out = mag * (self.k1 + 1.0) / (self.k1 * norm + mag) * self.idf[items]
        return (np.sign(data) * out).astype(np.float32)

    def transform(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        lengths = np.repeat(_row_lengths(matrix), np.diff(matrix.indptr))
        data = self._weigh(matrix.data, matrix.indices, lengths)
        out = sp.csr_matrix((data, matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)
        out.eliminate_zeros()
        return out

    def transform_history(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        length = float(np.abs(weights).sum())
        return self._weigh(weights, items, np.full(items.shape[0], length))


def _row_lengths(matrix: sp.csr_matrix) -> np.ndarray:
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return np.bincount(rows, weights=np.abs(matrix.data), minlength=matrix.shape[0])
