"""Content-based cold start: a collaborative model plus items placed into it by their text.

Method: attribute-to-parameter mapping (Gantner et al., "Learning Attribute-to-Feature Mappings
for Cold-Start Recommendations", ICDM 2010). The base model (EASE or ALS) is fitted on the
interactions as usual. On the *warm* items, a ridge regression learns a linear map W from an item's
text embedding e (MiniLM, unit length) to that item's own parameters in the base model:

* ALS: the item factor vector v_j (so a cold item's score is ``u · (e W)``);
* EASE: the item's column B[:, j] of the item-item matrix (what each history item contributes to
  it), so a cold item's score is ``history · (e W)``, in EASE's own units.

    W = (EᵀE + λI)⁻¹ Eᵀ T        (E: warm embeddings, T: their base parameters)

Each cold item (a catalog item with no interactions) then gets ``e_c W`` written into the base
model as if it had been learnt. Why this rather than a text profile blended after calibration:
the prediction lives in the base model's space, so cold scores are on the same scale as warm scores
without a separate calibration, ridge shrinks uncertain predictions towards 0 (a cold item only
outranks warm ones when its text strongly matches the user's taste), and ``W`` is the kernel-ridge
answer "behave like the warm items whose text resembles yours". Warm items keep their base
parameters bit for bit and no training history contains a cold item, so warm scores equal the base
CF scores (EASE: cold rows of B are 0; ALS: user factors are unchanged); only the cold items join
the ranking. Everything is precomputed at training time: serving needs no text model.

``similar`` of a cold item and ``explain`` of a cold item use the stored embeddings (cosine: "it
resembles X you watched"); ``similar`` of a warm item is the base model's, which now includes cold
items. The artifact stores the augmented base model's arrays under ``base.``, the cold item indices
and the (float16) embeddings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from limelight.errors import InvalidParams, ValidationFailed
from limelight.recsys.base import (
    RecsysParams,
    make_history,
    params_array,
    params_from_arrays,
    parse_params,
    require_array,
)
from limelight.recsys.ranking import ExcludeLike, top_k

__all__ = ["Hybrid", "HybridParams", "project_cold_items"]

BASE_PREFIX = "base."


class HybridParams(RecsysParams):
    base: Literal["ease", "als", "bpr"] = Field("ease", description="collaborative model for the warm items")
    base_params: dict[str, Any] = Field(default_factory=dict, description="that model's own parameters")
    ridge_l2: float = Field(0.1, gt=0, description="ridge lambda of the text -> model-parameter map")
    cold_weight: float = Field(1.0, gt=0, le=10, description="multiplier on the projected cold-item "
                                                             "parameters: below 1 shows cold items less often")

    @model_validator(mode="after")
    def _base_params_valid(self) -> Self:
        from limelight.recsys.algorithms import params_class

        params_class(self.base).model_validate(self.base_params)  # a ValidationError names the field
        return self


def ridge_map(x: np.ndarray, targets: np.ndarray, l2: float) -> np.ndarray:
    """W minimising ||x W - targets||² + l2 ||W||² (x: n x d, targets: n x t)."""
    x64 = x.astype(np.float64)
    gram = x64.T @ x64
    gram[np.diag_indices_from(gram)] += l2
    return np.linalg.solve(gram, x64.T @ targets.astype(np.float64)).astype(np.float32)


def project_cold_items(base: Any, embeddings: np.ndarray, warm: np.ndarray, cold: np.ndarray, l2: float,
                       scale: float = 1.0) -> None:
    """Write ridge-predicted parameters (times ``scale``) for ``cold`` items into a fitted base model."""
    from limelight.recsys.algorithms.ease import EASE
    from limelight.recsys.algorithms.factors import FactorRecommender

    if cold.size == 0:
        return
    if isinstance(base, EASE):
        _project_ease(base, embeddings, cold, l2, scale)
    elif isinstance(base, FactorRecommender):
        factors = base.item_factors.copy()
        train = warm[np.abs(embeddings[warm]).sum(axis=1) > 0]
        factors[cold] = scale * (embeddings[cold] @ ridge_map(embeddings[train], factors[train], l2))
        base._set_factors(base.user_factors, factors)
    else:
        raise InvalidParams(f"cold-start projection does not support {type(base).__name__}")


def _project_ease(base: Any, embeddings: np.ndarray, cold: np.ndarray, l2: float, scale: float) -> None:
    modelled = base.items
    m = modelled.shape[0]
    has_text = np.abs(embeddings[modelled]).sum(axis=1) > 0
    # row i of T is modelled item i's column of B: what each modelled history item adds to it
    w = ridge_map(embeddings[modelled][has_text], base.weights.T[has_text], l2)
    new_items = np.union1d(modelled, cold)
    old_rows = np.searchsorted(new_items, modelled)
    cold_rows = np.searchsorted(new_items, cold)
    weights = np.zeros((new_items.shape[0], new_items.shape[0]), np.float32)
    weights[np.ix_(old_rows, old_rows)] = base.weights
    if m:
        weights[np.ix_(old_rows, cold_rows)] = scale * (embeddings[cold] @ w).T
    base._set_model(new_items, weights, base.n_items)


class Hybrid:
    """A base recommender whose cold items were projected in from their text embeddings."""

    name: ClassVar[str] = "hybrid"

    def __init__(self, params: HybridParams | Mapping[str, Any] | None = None,
                 embeddings: np.ndarray | None = None) -> None:
        self.params: HybridParams = parse_params(HybridParams, params)
        self.embeddings = embeddings
        self.cold = np.zeros(0, np.int64)
        self.base: Any = None

    @property
    def n_items(self) -> int:
        return int(self.base.n_items) if self.base is not None else 0

    @property
    def n_users(self) -> int | None:
        return self.base.n_users if self.base is not None else 0

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        from limelight.recsys.algorithms import create

        base = create(self.params.base, self.params.base_params).fit(matrix, timestamps=timestamps)
        return self.attach(base, matrix)

    def attach(self, base: Any, matrix: sp.csr_matrix) -> Self:
        """Project the items without interactions in ``matrix`` into an already fitted ``base``."""
        if self.embeddings is None or self.embeddings.shape[0] != matrix.shape[1]:
            raise InvalidParams("the hybrid recommender needs one text embedding per item")
        counts = np.diff(sp.csc_matrix(matrix).indptr)
        self.cold = np.flatnonzero(counts == 0).astype(np.int64)
        warm = np.flatnonzero(counts > 0).astype(np.int64)
        project_cold_items(base, self.embeddings, warm, self.cold, self.params.ridge_l2, self.params.cold_weight)
        self.base = base
        return self

    # ---- scoring: the augmented base model does it ---------------------------------------------

    def recommend(self, user: Any, k: int = 10, *, exclude: ExcludeLike = None,
                  candidate_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.base.recommend(user, k, exclude=exclude, candidate_mask=candidate_mask)

    def recommend_for_history(self, item_indices: ArrayLike, weights: ArrayLike | None = None, k: int = 10, *,
                              exclude: ExcludeLike = None,
                              candidate_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.base.recommend_for_history(
            item_indices, weights, k, exclude=exclude, candidate_mask=candidate_mask)

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.base.score_users(users, user_items)

    def is_cold(self, item_index: int) -> bool:
        pos = np.searchsorted(self.cold, item_index)
        return bool(pos < self.cold.shape[0] and self.cold[pos] == item_index)

    def content_similarity(self, item_index: int) -> np.ndarray:
        assert self.embeddings is not None
        return (self.embeddings @ self.embeddings[item_index]).astype(np.float32)

    def similar_items(self, item_index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Cold items: nearest items by text; warm items: the base model's (cold items included)."""
        if not 0 <= item_index < self.n_items:
            raise InvalidParams(f"item index {item_index} out of range")
        if not self.is_cold(item_index):
            return self.base.similar_items(item_index, k)
        scores = self.content_similarity(item_index)
        scores[item_index] = -np.inf
        return top_k(scores, k)

    def explain(self, history_items: ArrayLike, item_index: int,
                weights: ArrayLike | None = None) -> list[tuple[int, float]]:
        """Cold items: liked history items weighted by text similarity ("it resembles X")."""
        if not self.is_cold(item_index):
            return self.base.explain(history_items, item_index, weights)
        history = make_history(history_items, weights, self.n_items)
        similarity = self.content_similarity(item_index)[history.item_indices]
        pairs = [(int(i), float(w * s)) for i, w, s in zip(history.item_indices, history.weights, similarity,
                                                            strict=True) if w > 0 and s > 0]
        pairs.sort(key=lambda pair: -pair[1])
        return pairs

    # ---- artifact ----------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        assert self.embeddings is not None and self.base is not None
        base = {BASE_PREFIX + key: value for key, value in self.base.to_arrays().items()}
        return {"params": params_array(self.params), "cold_items": self.cold,
                "embeddings": self.embeddings.astype(np.float16), **base}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        from limelight.recsys.algorithms import algorithm_class

        params = params_from_arrays(HybridParams, arrays)
        embeddings = require_array(arrays, "embeddings", "f", 2).astype(np.float32)
        model = cls(params, embeddings)
        base_arrays = {k[len(BASE_PREFIX):]: v for k, v in arrays.items() if k.startswith(BASE_PREFIX)}
        model.base = algorithm_class(params.base).from_arrays(base_arrays)
        model.cold = require_array(arrays, "cold_items", "i", 1).astype(np.int64)
        n = model.base.n_items
        bad_cold = model.cold.size and (model.cold.min() < 0 or model.cold.max() >= n
                                        or (np.diff(model.cold) <= 0).any())
        if embeddings.shape[0] != n or bad_cold or not np.isfinite(embeddings).all():
            raise ValidationFailed("hybrid artifact: embeddings or cold items disagree with the base model")
        return model
