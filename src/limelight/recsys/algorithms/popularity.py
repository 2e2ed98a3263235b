"""Most popular items: the baseline, the cold-start fallback, and a "trending" list with time decay.

Popularity counts users with a positive interaction (a heavy user replaying one title counts once).
With ``half_life_days`` each interaction counts ``0.5 ** (age_days / half_life_days)``, where the age
is measured from the newest interaction in the data (not from "now"), so refitting the same data
gives the same model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from pydantic import Field

from limelight.recsys.base import (
    History,
    RecsysParams,
    ScoringRecommender,
    params_array,
    params_from_arrays,
    parse_params,
    require_array,
)
from limelight.recsys.ranking import top_k

__all__ = ["Popularity", "PopularityParams", "item_popularity"]

SECONDS_PER_DAY = 86_400.0


class PopularityParams(RecsysParams):
    half_life_days: float | None = Field(default=None, gt=0, description="None: no time decay")


def item_popularity(
    matrix: sp.csr_matrix, timestamps: np.ndarray | None = None, half_life_days: float | None = None
) -> np.ndarray:
    """Per-item (decayed) count of users with a positive interaction, float32."""
    positive = matrix.data > 0
    contrib = positive.astype(np.float64)
    if half_life_days is not None and timestamps is not None and timestamps.size:
        age_days = (timestamps.max() - timestamps).astype(np.float64) / SECONDS_PER_DAY
        contrib *= np.exp2(-age_days / half_life_days)
    counts = np.bincount(matrix.indices, weights=contrib, minlength=matrix.shape[1])
    return counts.astype(np.float32)


class Popularity(ScoringRecommender):
    name: ClassVar[str] = "popularity"

    def __init__(self, params: PopularityParams | Mapping[str, Any] | None = None) -> None:
        self.params: PopularityParams = parse_params(PopularityParams, params)
        self.scores = np.zeros(0, np.float32)

    @property
    def n_items(self) -> int:
        return int(self.scores.shape[0])

    @property
    def n_users(self) -> int | None:
        return None

    def fit(self, matrix: sp.csr_matrix, *, timestamps: np.ndarray | None = None) -> Self:
        self.scores = item_popularity(matrix, timestamps, self.params.half_life_days)
        return self

    def _score_user(self, user: int) -> np.ndarray:
        return self.scores.copy()

    def _score_history(self, history: History) -> np.ndarray:
        return self.scores.copy()

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.scores, (len(users), 1))

    def similar_items(self, item_index: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Without co-occurrence data the best guess for "more like this" is the most popular others."""
        scores = self.scores.copy()
        scores[self._check_item(item_index)] = -np.inf
        return top_k(scores, k)

    def explain(
        self, history_items: ArrayLike, item_index: int, weights: ArrayLike | None = None
    ) -> list[tuple[int, float]]:
        self._check_item(item_index)
        return []  # popularity does not depend on the history

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"params": params_array(self.params), "scores": self.scores}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        model = cls(params_from_arrays(PopularityParams, arrays))
        model.scores = np.ascontiguousarray(require_array(arrays, "scores", "f", 1), dtype=np.float32)
        return model
