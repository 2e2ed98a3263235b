"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) trained by implicit's CPU solver.

Cell values become confidences: BM25-weighted by default (see ``confidence.py``), times ``alpha``.
``regularization`` is implicit's absolute L2 term, so it grows with the confidence scale: with BM25
weights (idf of a few units) useful values are 5 to 50, larger than on raw 0/1 data.
Training runs implicit's OpenMP threads with BLAS held to one thread (see ``threads.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from limelight.errors import ValidationFailed
from limelight.recsys.algorithms.confidence import Bm25Confidence
from limelight.recsys.algorithms.factors import FactorRecommender
from limelight.recsys.base import (
    History,
    RecsysParams,
    params_array,
    params_from_arrays,
    parse_params,
    require_array,
)

__all__ = ["ALS", "ALSParams"]


class ALSParams(RecsysParams):
    factors: int = Field(default=128, ge=1, le=1024)
    regularization: float = Field(default=30.0, ge=0)
    alpha: float = Field(default=1.0, gt=0, description="confidence multiplier on the (weighted) cell values")
    iterations: int = Field(default=15, ge=1, le=200)
    weighting: Literal["none", "bm25"] = "bm25"
    bm25_k1: float = Field(default=100.0, ge=0)
    bm25_b: float = Field(default=0.8, ge=0, le=1)
    random_state: int = 42
    num_threads: int = Field(default=0, ge=0, description="0: every core this process may use")


class ALS(FactorRecommender):
    name: ClassVar[str] = "als"

    def __init__(self, params: ALSParams | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.params: ALSParams = parse_params(ALSParams, params)
        self._bm25: Bm25Confidence | None = None

    @property
    def fold_in_regularization(self) -> float:
        return self.params.regularization

    def confidences(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """The matrix ALS actually factorises (before ``alpha``)."""
        if self.params.weighting == "bm25":
            self._bm25 = Bm25Confidence.fit(matrix, self.params.bm25_k1, self.params.bm25_b)
            return self._bm25.transform(matrix)
        return sp.csr_matrix(matrix, dtype=np.float32)

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        return self._fit_implicit(
            lambda threads: AlternatingLeastSquares(
                factors=p.factors, regularization=p.regularization, alpha=p.alpha, iterations=p.iterations,
                random_state=p.random_state, num_threads=threads),
            self.confidences(matrix), p.num_threads)

    def _confidence(self, history: History) -> np.ndarray:
        w = history.weights
        if self._bm25 is not None:
            w = self._bm25.transform_history(history.item_indices, w)
        return self.params.alpha * w.astype(np.float64)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"params": params_array(self.params), **self._factor_arrays()}
        if self._bm25 is not None:
            arrays["bm25.idf"] = self._bm25.idf
            arrays["bm25.mean_length"] = np.asarray(self._bm25.mean_length, np.float64)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        model = cls(params_from_arrays(ALSParams, arrays))
        model._load_factors(arrays)
        if model.params.weighting == "bm25":
            idf = require_array(arrays, "bm25.idf", "f", 1).astype(np.float32)
            mean_length = float(require_array(arrays, "bm25.mean_length", "f", 0))
            if idf.shape[0] != model.n_items or not mean_length > 0:
                raise ValidationFailed("als artifact: BM25 state does not match the item factors")
            model._bm25 = Bm25Confidence(idf, mean_length, model.params.bm25_k1, model.params.bm25_b)
        return model
