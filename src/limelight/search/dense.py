"""The dense side: cosine similarity over unit-length item embeddings, exact or through HNSW.

Exact search is one matrix-vector product and an ``argpartition``: at 10k x 384 about 1 ms, so it
serves every catalog up to ``ann_threshold`` items. The product is ``einsum`` (NumPy's own loop),
not BLAS: a multi-threaded OpenBLAS took 8 ms for it on a busy 2-core machine, ``einsum`` 0.7 ms. Above it an ``hnswlib``
index is built at load time from the stored embeddings (never read from artifact bytes: hnswlib's
loader trusts its input's offsets, and rebuilding keeps native parsing of uploaded bytes out of the
picture). Filters are candidate masks: exact search applies them before ranking; HNSW over-fetches
and filters, and falls back to exact search over the candidates when the mask is too selective for
over-fetching to find ``k`` of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# A mask keeping fewer than this share of items is searched exactly over its candidates.
SELECTIVE_SHARE = 0.05
MAX_OVERFETCH = 20


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``k`` best, best first; masked-out items never appear."""
    if mask is not None:
        candidates = np.flatnonzero(mask)
        scores = scores[candidates]
    else:
        candidates = None
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.argsort(-scores[part], kind="stable")]
    chosen = candidates[order] if candidates is not None else order
    return chosen.astype(np.int64), scores[order].astype(np.float32)


class DenseIndex:
    """Unit-length float32 embeddings, plus an HNSW graph when the catalog is large."""

    def __init__(self, embeddings: np.ndarray, *, ann: bool, m: int = 16, ef_construction: int = 200,
                 ef_search: int = 64, seed: int = 42, threads: int = 1) -> None:
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.ef_search = ef_search
        self._hnsw = self._build_hnsw(m, ef_construction, seed, threads) if ann else None

    @property
    def kind(self) -> str:
        return "approximate" if self._hnsw is not None else "exact"

    @property
    def memory_bytes(self) -> int:
        n, dim = self.embeddings.shape
        graph = n * (dim * 4 + 2 * 16 * 4 + 64) if self._hnsw is not None else 0
        return int(self.embeddings.nbytes + graph)

    def _build_hnsw(self, m: int, ef_construction: int, seed: int, threads: int) -> Any:
        import hnswlib

        n, dim = self.embeddings.shape
        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=max(n, 1), M=m, ef_construction=ef_construction, random_seed=seed)
        index.add_items(self.embeddings, np.arange(n), num_threads=threads)
        index.set_ef(self.ef_search)
        return index

    def exact(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if mask is not None:
            candidates = np.flatnonzero(mask)
            picked, scores = top_k(_cosine(self.embeddings[candidates], query), k)
            return candidates[picked], scores
        return top_k(_cosine(self.embeddings, query), k)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest items (cosine), best first, restricted to ``mask``."""
        n = self.embeddings.shape[0]
        if self._hnsw is None or k >= n:
            return self.exact(query, k, mask)
        share = 1.0 if mask is None else float(mask.mean())
        if share < SELECTIVE_SHARE:
            return self.exact(query, k, mask)
        fetch = min(n, int(np.ceil(k / share * 2)) if mask is not None else k, k * MAX_OVERFETCH)
        fetch = max(fetch, k)
        self._hnsw.set_ef(max(self.ef_search, fetch))
        labels, distances = self._hnsw.knn_query(query[None, :], k=fetch, num_threads=1)
        indices, scores = labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)
        if mask is not None:
            keep = mask[indices]
            indices, scores = indices[keep], scores[keep]
            if indices.shape[0] < k and int(mask.sum()) > indices.shape[0]:
                return self.exact(query, k, mask)
        return indices[:k], scores[:k]


def _cosine(embeddings: np.ndarray, query: np.ndarray) -> np.ndarray:
    return np.einsum("ij,j->i", embeddings, query.astype(np.float32, copy=False))
