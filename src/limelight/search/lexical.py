"""The BM25 side: built with ``bm25s`` (Lucene BM25), served from its plain arrays.

``bm25s`` precomputes every (term, item) BM25 contribution into a sparse term-by-item matrix; the
artifact stores that matrix (``indptr``/``indices``/``data``) and the term vocabulary, so serving
needs neither ``bm25s`` nor a re-index: a query's scores are the sum of its terms' rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from limelight.errors import ValidationFailed


class LexicalIndex:
    """Term -> (item indices, BM25 contributions), as CSR over terms."""

    def __init__(self, vocab: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                 n_items: int) -> None:
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.n_items = n_items
        self._term_ids = {str(term): n for n, term in enumerate(vocab.tolist())}

    @classmethod
    def build(cls, documents: Sequence[list[str]], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        # bm25s needs a non-empty token list per document; an empty item scores 0 for every term
        retriever.index([doc or [""] for doc in documents], show_progress=False)
        by_id = sorted(retriever.vocab_dict.items(), key=lambda pair: pair[1])
        scores = retriever.scores
        indptr = np.asarray(scores["indptr"], np.int64)
        # bm25s adds an empty token to the vocabulary that may have no matrix row: give it an empty one
        indptr = np.concatenate([indptr, np.full(max(0, len(by_id) + 1 - indptr.shape[0]), indptr[-1])])
        return cls(np.array([term for term, _ in by_id], dtype=str),
                   indptr, np.asarray(scores["indices"], np.int32),
                   np.asarray(scores["data"], np.float32), len(documents))

    def validate(self) -> None:
        """Structural checks on arrays read from an untrusted artifact."""
        n_terms = self.vocab.shape[0]
        ok = (self.indptr.ndim == 1 and self.indptr.shape[0] == n_terms + 1 and self.indptr[0] == 0
              and self.indptr[-1] == self.indices.shape[0] == self.data.shape[0]
              and bool(np.all(np.diff(self.indptr) >= 0))
              and (self.indices.size == 0 or (self.indices.min() >= 0 and self.indices.max() < self.n_items))
              and bool(np.all(np.isfinite(self.data))))
        if not ok:
            raise ValidationFailed("search artifact: the BM25 arrays are inconsistent")

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every item for the query terms (0 where none occurs)."""
        out = np.zeros(self.n_items, np.float32)
        for term in terms:
            term_id = self._term_ids.get(term)
            if term_id is None:
                continue
            start, end = self.indptr[term_id], self.indptr[term_id + 1]
            np.add.at(out, self.indices[start:end], self.data[start:end])
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"bm25.vocab": self.vocab, "bm25.indptr": self.indptr, "bm25.indices": self.indices,
                "bm25.data": self.data}
