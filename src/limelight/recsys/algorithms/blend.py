"""A weighted blend of two or three fitted recommenders, each member's scores standardised per user.

Why: recipes err differently (EASE reads item-to-item co-occurrence, ALS a low-rank taste profile),
so a blend of the two best often ranks better than either; on ml-latest-small EASE + ALS beats the
best single model by about 0.01 NDCG@10. ``recommend/auto`` builds it from its two best candidates
and picks the weights on its validation splits, so the blend wins only where it measurably does.

Scores: ``sum_i w_i * (s_i - mean(s_i)) / std(s_i)``, mean and standard deviation over one user's
scores of every item. Members score on different scales (EASE in its regression's units, ALS in
dot products, item-kNN in summed cosines), so without this one member would drown the other. The
standardisation is per user and over the whole catalog, so a user's ranking does not depend on
which items a request filters out.

``explain``: the blended score is linear in each member's score, so an item's contribution is each
member's contribution scaled by ``w_i / std_i`` (the means shift every item alike). ``similar``: the
heaviest member's item-to-item neighbours; item similarity is not what the weights were tuned for.
The artifact holds each member's own arrays under ``m0.``, ``m1.``, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator

from limelight.errors import ValidationFailed
from limelight.recsys.base import (
    History,
    RecsysParams,
    ScoringRecommender,
    make_history,
    params_array,
    params_from_arrays,
    parse_params,
)

__all__ = ["Blend", "BlendMember", "BlendParams", "standardise_rows"]

MemberRecipe = Literal["popularity", "itemknn", "als", "bpr", "ease"]


class BlendMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    recipe: MemberRecipe
    params: dict[str, Any] = Field(default_factory=dict, description="that recipe's own parameters")
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)

    @model_validator(mode="after")
    def _params_valid(self) -> Self:
        from limelight.recsys.algorithms import params_class

        params_class(self.recipe).model_validate(self.params)  # a ValidationError names the field
        return self


class BlendParams(RecsysParams):
    members: list[BlendMember] = Field(min_length=2, max_length=3, description="the heaviest first")

    @model_validator(mode="after")
    def _heaviest_first(self) -> Self:
        if any(a.weight < b.weight for a, b in zip(self.members, self.members[1:], strict=False)):
            raise ValueError("members must be listed heaviest first")
        return self


def standardise_rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``scores`` (float32) minus their mean over their standard deviation; and the deviations.

    A constant row (a user nobody can score yet) becomes all zeros rather than NaN."""
    scores = np.atleast_2d(np.asarray(scores, np.float32))
    mean = scores.mean(axis=1, keepdims=True, dtype=np.float64)
    std = scores.std(axis=1, keepdims=True, dtype=np.float64)
    std[std <= 1e-12] = np.inf
    return ((scores - mean) / std).astype(np.float32), std.ravel()


class Blend(ScoringRecommender):
    name: ClassVar[str] = "blend"

    def __init__(self, params: BlendParams | Mapping[str, Any] | None = None) -> None:
        self.params: BlendParams = parse_params(BlendParams, params)
        self.members: list[Any] = []  # fitted ScoringRecommender recipes, as listed in params.members

    @property
    def _weights(self) -> list[float]:
        return [m.weight for m in self.params.members]

    @property
    def n_items(self) -> int:
        return self.members[0].n_items if self.members else 0

    @property
    def n_users(self) -> int | None:
        return self.members[0].n_users if self.members else 0

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        from limelight.recsys.algorithms import create

        fitted = [create(m.recipe, m.params).fit(matrix, timestamps=timestamps) for m in self.params.members]
        return self.attach(fitted)

    def attach(self, fitted: list[Any]) -> Self:
        """Use already fitted members (listed as in ``params.members``), e.g. from a search's trials."""
        if [type(m).name for m in fitted] != [m.recipe for m in self.params.members]:
            raise ValidationFailed("blend: the fitted members do not match the listed recipes")
        if len({m.n_items for m in fitted}) != 1:
            raise ValidationFailed("blend: members disagree on the item count")
        self.members = list(fitted)
        return self

    def _combine(self, member_scores: list[np.ndarray]) -> np.ndarray:
        total = np.zeros_like(np.atleast_2d(member_scores[0]), dtype=np.float32)
        for weight, scores in zip(self._weights, member_scores, strict=True):
            total += weight * standardise_rows(scores)[0]
        return total

    def _score_user(self, user: int) -> np.ndarray:
        return self._combine([m._score_user(user) for m in self.members]).ravel()

    def _score_history(self, history: History) -> np.ndarray:
        return self._combine([m._score_history(history) for m in self.members]).ravel()

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self._combine([np.asarray(m.score_users(users, user_items), np.float32) for m in self.members])

    def similar_items(self, item_index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        return self.members[0].similar_items(self._check_item(item_index), k)

    def explain(
        self, history_items: ArrayLike, item_index: int, weights: ArrayLike | None = None
    ) -> list[tuple[int, float]]:
        history = make_history(history_items, weights, self.n_items)
        item = self._check_item(item_index)
        contributions: dict[int, float] = {}
        for weight, member in zip(self._weights, self.members, strict=True):
            std = float(standardise_rows(member._score_history(history))[1][0])
            for hist_item, value in member.explain(history.item_indices, item, history.weights):
                contributions[hist_item] = contributions.get(hist_item, 0.0) + weight * value / std
        pairs = [(i, v) for i, v in contributions.items() if v != 0]
        pairs.sort(key=lambda pair: -pair[1])
        return pairs

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"params": params_array(self.params)}
        for position, member in enumerate(self.members):
            arrays.update({f"m{position}.{key}": value for key, value in member.to_arrays().items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        from limelight.recsys.algorithms import algorithm_class

        model = cls(params_from_arrays(BlendParams, arrays))
        fitted = []
        for position, member in enumerate(model.params.members):
            prefix = f"m{position}."
            own = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
            fitted.append(algorithm_class(member.recipe).from_arrays(own))
        return model.attach(fitted)
