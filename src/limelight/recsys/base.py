"""The Recommender Protocol every recipe implements, and the scoring base class they share.

A recommender works on integer indices only (rows and columns of the training matrix); string ids
live in :class:`limelight.recsys.artifact.TrainedRecommender`. A "history" is a user's interactions as
parallel arrays of item indices and weights; recommending from a history ("fold-in") needs no
retraining, so a user's latest events count immediately.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, Protocol, Self, TypeVar, runtime_checkable

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, ValidationError

from limelight.errors import InvalidParams, ValidationFailed
from limelight.recsys.ranking import ExcludeLike, apply_filters, top_k
from limelight.schemas.common import StrictInput

__all__ = [
    "History",
    "RecommendOutput",
    "Recommender",
    "RecsysParams",
    "ScoringRecommender",
    "make_history",
    "parse_params",
    "require_array",
    "user_history",
]

RecommendOutput = tuple[np.ndarray, np.ndarray]  # (item indices int64, scores float32), best first


class History(NamedTuple):
    item_indices: np.ndarray  # int64, unique
    weights: np.ndarray  # float32, same length


class RecsysParams(StrictInput):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


P = TypeVar("P", bound=RecsysParams)


def parse_params(cls: type[P], params: Mapping[str, Any] | BaseModel | None) -> P:
    """Validate params into ``cls``; any problem is an ``InvalidParams`` (400) listing the fields."""
    if isinstance(params, cls):
        return params
    raw = params.model_dump() if isinstance(params, BaseModel) else dict(params or {})
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise InvalidParams(f"invalid parameters for {cls.__name__}", details={"errors": errors}) from None


def make_history(item_indices: ArrayLike, weights: ArrayLike | None, n_items: int) -> History:
    """Validate a history; repeated items are summed like repeated events in the training matrix."""
    idx = np.asarray(item_indices, dtype=np.int64).ravel()
    w = np.ones(idx.shape[0], np.float32) if weights is None else np.asarray(weights, np.float32).ravel()
    if w.shape != idx.shape:
        raise InvalidParams("history weights must be one per item")
    if idx.size and (idx.min() < 0 or idx.max() >= n_items):
        raise InvalidParams("history item index out of range")
    if idx.size > 1 and not (np.diff(idx) > 0).all():
        idx, inverse = np.unique(idx, return_inverse=True)
        w = np.bincount(inverse, weights=w).astype(np.float32)
    return History(idx, w)


def user_history(matrix: sp.csr_matrix, user: int) -> History:
    lo, hi = matrix.indptr[user], matrix.indptr[user + 1]
    return History(matrix.indices[lo:hi].astype(np.int64), matrix.data[lo:hi].astype(np.float32))


def require_array(arrays: Mapping[str, np.ndarray], key: str, kind: str, ndim: int) -> np.ndarray:
    """Fetch an artifact array and check its dtype kind ('f', 'i', 'U', 'b') and rank."""
    if key not in arrays:
        raise ValidationFailed(f"recommender artifact lacks array {key!r}")
    arr = np.asarray(arrays[key])
    kinds = "iu" if kind == "i" else kind
    if arr.dtype.kind not in kinds or arr.ndim != ndim:
        raise ValidationFailed(f"recommender artifact array {key!r} has dtype {arr.dtype} / rank {arr.ndim}")
    return arr


def params_array(params: BaseModel) -> np.ndarray:
    return np.array(json.dumps(params.model_dump(mode="json"), sort_keys=True))


def params_from_arrays(cls: type[P], arrays: Mapping[str, np.ndarray]) -> P:
    raw = require_array(arrays, "params", "U", 0)
    return parse_params(cls, json.loads(str(raw)))


@runtime_checkable
class Recommender(Protocol):
    """What every recipe offers. Indices are training-matrix rows (users) and columns (items)."""

    name: ClassVar[str]

    @property
    def params(self) -> RecsysParams: ...

    @property
    def n_items(self) -> int: ...

    @property
    def n_users(self) -> int | None:
        """Training users the model can score by index (None: it does not depend on the user)."""
        ...

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        """Learn from a users x items CSR matrix; ``timestamps`` aligns with ``matrix.data``."""
        ...

    def recommend(
        self,
        user: int | History,
        k: int = 10,
        *,
        exclude: ExcludeLike = None,
        candidate_mask: np.ndarray | None = None,
    ) -> RecommendOutput: ...

    def recommend_for_history(
        self,
        item_indices: ArrayLike,
        weights: ArrayLike | None = None,
        k: int = 10,
        *,
        exclude: ExcludeLike = None,
        candidate_mask: np.ndarray | None = None,
    ) -> RecommendOutput: ...

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        """Dense (len(users), n_items) scores; ``user_items`` holds those users' rows (for evaluation)."""
        ...

    def similar_items(self, item_index: int, k: int = 10) -> RecommendOutput: ...

    def explain(
        self, history_items: ArrayLike, item_index: int, weights: ArrayLike | None = None
    ) -> list[tuple[int, float]]:
        """Contribution of each history item to ``item_index``'s score, largest first."""
        ...

    def to_arrays(self) -> dict[str, np.ndarray]: ...

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self: ...


class ScoringRecommender(ABC):
    """Shared ranking logic: subclasses only score a known user, a history, and the similar items."""

    name: ClassVar[str]
    params: RecsysParams

    @property
    @abstractmethod
    def n_items(self) -> int: ...

    @property
    @abstractmethod
    def n_users(self) -> int | None: ...

    @abstractmethod
    def _score_user(self, user: int) -> np.ndarray:
        """A fresh float32 score vector for a training user (the caller may modify it)."""

    @abstractmethod
    def _score_history(self, history: History) -> np.ndarray:
        """A fresh float32 score vector for an arbitrary history."""

    def recommend(
        self,
        user: int | History,
        k: int = 10,
        *,
        exclude: ExcludeLike = None,
        candidate_mask: np.ndarray | None = None,
    ) -> RecommendOutput:
        scores = self._score_history(user) if isinstance(user, History) else self._score_user(int(user))
        apply_filters(scores, exclude, candidate_mask)
        return top_k(scores, k)

    def recommend_for_history(
        self,
        item_indices: ArrayLike,
        weights: ArrayLike | None = None,
        k: int = 10,
        *,
        exclude: ExcludeLike = None,
        candidate_mask: np.ndarray | None = None,
    ) -> RecommendOutput:
        history = make_history(item_indices, weights, self.n_items)
        return self.recommend(history, k, exclude=exclude, candidate_mask=candidate_mask)

    def _check_item(self, item_index: int) -> int:
        if not 0 <= item_index < self.n_items:
            raise InvalidParams(f"item index {item_index} out of range")
        return int(item_index)
