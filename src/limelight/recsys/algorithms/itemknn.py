"""Item-based k-nearest neighbours: score = sum over the history of (weight x item-item similarity).

Similarities come from positive interactions only (co-liking); a negative history weight (a skip)
then subtracts that item's neighbours when scoring.

* ``cosine``: cosine of the items' user vectors (the interaction weights).
* ``bm25``: the same cosine after BM25-weighting the item x user matrix (users are the "terms"):
  heavy users count less (idf) and repeated interactions saturate (``bm25_k1``), with item length
  normalisation ``bm25_b``.

Each item keeps only its ``neighbours`` most similar items, which is both the regulariser and what
keeps the model small (n_items x neighbours entries). ``shrinkage`` discounts similarities that rest
on few common users (``neighbours.neighbour_matrix``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pydantic import Field

from limelight.errors import ValidationFailed
from limelight.recsys.algorithms.neighbours import explain_from_rows, neighbour_matrix, score_from_rows
from limelight.recsys.base import (
    History,
    RecsysParams,
    ScoringRecommender,
    make_history,
    params_array,
    params_from_arrays,
    parse_params,
    user_history,
)
from limelight.recsys.csr_codec import csr_from_arrays, csr_to_arrays
from limelight.recsys.ranking import top_k

__all__ = ["ItemKNN", "ItemKNNParams", "bm25_item_vectors"]


class ItemKNNParams(RecsysParams):
    similarity: Literal["cosine", "bm25"] = "bm25"
    neighbours: int = Field(default=100, ge=1, le=2000)
    bm25_k1: float = Field(default=1.2, ge=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    shrinkage: float = Field(default=0.0, ge=0, le=1e4, description="scale a similarity resting on n common "
                                                                    "users by n / (n + shrinkage); 0: off")
    num_threads: int = Field(default=0, ge=0, description="0: every core this process may use")


def bm25_item_vectors(item_users: sp.csr_matrix, k1: float, b: float) -> sp.csr_matrix:
    """BM25 weights of an items x users matrix with non-negative entries."""
    coo = item_users.tocoo()
    n_items = item_users.shape[0]
    # clipped at 0: a user who touched more than 1/e of the catalog says nothing about similarity
    idf = np.maximum(np.log(n_items) - np.log1p(np.bincount(coo.col, minlength=item_users.shape[1])), 0.0)
    lengths = np.asarray(item_users.sum(axis=1)).ravel()
    length_norm = (1.0 - b) + b * lengths / max(float(lengths.mean()), 1e-12)
    data = coo.data * (k1 + 1.0) / (k1 * length_norm[coo.row] + coo.data) * idf[coo.col]
    return sp.csr_matrix((data.astype(np.float32), (coo.row, coo.col)), shape=item_users.shape)


def _l2_normalise_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags((1.0 / norms).astype(np.float32)) @ m)


class ItemKNN(ScoringRecommender):
    name: ClassVar[str] = "itemknn"

    def __init__(self, params: ItemKNNParams | Mapping[str, Any] | None = None) -> None:
        self.params: ItemKNNParams = parse_params(ItemKNNParams, params)
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)
        self.user_items = sp.csr_matrix((0, 0), dtype=np.float32)

    @property
    def n_items(self) -> int:
        return int(self.similarity.shape[0])

    @property
    def n_users(self) -> int | None:
        return int(self.user_items.shape[0])

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        item_users = sp.csr_matrix(matrix.T.maximum(0), dtype=np.float32)
        item_users.eliminate_zeros()
        if self.params.similarity == "bm25":
            item_users = bm25_item_vectors(item_users, self.params.bm25_k1, self.params.bm25_b)
        self.similarity = neighbour_matrix(
            _l2_normalise_rows(item_users), self.params.neighbours, self.params.num_threads,
            shrinkage=self.params.shrinkage,
        )
        self.user_items = sp.csr_matrix(matrix, dtype=np.float32)
        return self

    def _score_user(self, user: int) -> np.ndarray:
        return self._score_history(user_history(self.user_items, user))

    def _score_history(self, history: History) -> np.ndarray:
        return score_from_rows(self.similarity, history.item_indices, history.weights)

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return np.asarray((user_items @ self.similarity).todense(), dtype=np.float32)

    def similar_items(self, item_index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        item = self._check_item(item_index)
        lo, hi = self.similarity.indptr[item], self.similarity.indptr[item + 1]
        idx = self.similarity.indices[lo:hi].astype(np.int64)
        best_idx, best = top_k(self.similarity.data[lo:hi].copy(), k)
        return idx[best_idx], best

    def explain(
        self, history_items: ArrayLike, item_index: int, weights: ArrayLike | None = None
    ) -> list[tuple[int, float]]:
        history = make_history(history_items, weights, self.n_items)
        return explain_from_rows(
            self.similarity, history.item_indices, history.weights, self._check_item(item_index)
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "params": params_array(self.params),
            **csr_to_arrays("similarity", self.similarity),
            **csr_to_arrays("user_items", self.user_items),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        model = cls(params_from_arrays(ItemKNNParams, arrays))
        model.similarity = csr_from_arrays(arrays, "similarity")
        model.similarity.sort_indices()
        model.user_items = csr_from_arrays(arrays, "user_items")
        n = model.similarity.shape[0]
        if model.similarity.shape[1] != n or model.user_items.shape[1] != n:
            raise ValidationFailed("itemknn artifact: similarity and user_items disagree on the item count")
        return model
