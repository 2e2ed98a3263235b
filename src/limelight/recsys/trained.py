"""A fitted recommender with its id maps: what a training job saves and a serving runtime calls.

Everything here works on string ids. Unknown users with no ``extra_history`` get the popularity list
(``fallback=True``); unknown item ids in histories, exclusions and filters are ignored (the catalog
may be newer than the model), except as the subject of ``similar``/``explain``, where they are
``NotFound``. The hot path (``recommend`` for a known user) is a binary search for the user, one
scoring call and one ``argpartition``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.errors import InvalidParams, NotFound
from limelight.recsys.base import History, Recommender, make_history, user_history
from limelight.recsys.interactions import Interactions, index_of
from limelight.recsys.ranking import apply_filters, top_k

__all__ = ["ExtraHistory", "RecommendResult", "TrainedRecommender"]

# item id -> weight, or item ids (weight 1 each), or (item id, weight) pairs
ExtraHistory = Mapping[str, float] | Iterable[str] | Iterable[tuple[str, float]]
FILTER_KEYS = ("item_ids", "exclude_item_ids")


@dataclass(frozen=True)
class _Plan:
    target: int | History | None  # a training user, a history to fold in, or None (fallback)
    k: int
    excluded: np.ndarray | None
    candidate_mask: np.ndarray | None


@dataclass(frozen=True)
class RecommendResult:
    item_ids: list[str]
    scores: list[float]
    fallback: bool  # True when the user was unknown and the popularity list was served
    item_indices: np.ndarray = field(repr=False)

    def to_dict(self, titles: np.ndarray | None = None) -> dict[str, Any]:
        items = [{"item_id": i, "score": s} for i, s in zip(self.item_ids, self.scores, strict=True)]
        if titles is not None:
            for entry, index in zip(items, self.item_indices.tolist(), strict=True):
                entry["title"] = str(titles[index])
        return {"items": items, "fallback": self.fallback}


class TrainedRecommender:
    """A fitted algorithm + sorted user/item ids + the training matrix (seen items) + popularity."""

    def __init__(
        self,
        algorithm: Recommender,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        user_items: sp.csr_matrix,
        popularity: np.ndarray,
        metadata: Mapping[str, Any] | None = None,
        item_titles: np.ndarray | None = None,
    ) -> None:
        if user_items.shape != (user_ids.shape[0], item_ids.shape[0]) or popularity.shape != item_ids.shape:
            raise InvalidParams("ids, user_items and popularity disagree on the number of users/items")
        if algorithm.n_items != item_ids.shape[0] or algorithm.n_users not in (None, user_ids.shape[0]):
            raise InvalidParams("the algorithm was fitted on a different number of users or items")
        if item_titles is not None and item_titles.shape != item_ids.shape:
            raise InvalidParams("item_titles must align with item_ids")
        for ids in (user_ids, item_ids):
            if ids.shape[0] > 1 and not (ids[1:] > ids[:-1]).all():
                raise InvalidParams("user and item ids must be sorted and unique")
        self.algorithm = algorithm
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.user_items = sp.csr_matrix(user_items, dtype=np.float32)
        self.popularity = np.ascontiguousarray(popularity, dtype=np.float32)
        self.metadata = dict(metadata or {})
        self.item_titles = item_titles

    @classmethod
    def from_interactions(
        cls,
        algorithm: Recommender,
        interactions: Interactions,
        *,
        metadata: Mapping[str, Any] | None = None,
        item_titles: Mapping[str, str] | None = None,
    ) -> TrainedRecommender:
        """Bundle an algorithm fitted on ``interactions.matrix``; titles are optional, by item id."""
        from limelight.recsys.algorithms.popularity import item_popularity

        titles = None
        if item_titles is not None:
            titles = np.array([item_titles.get(str(i), "") for i in interactions.item_ids], dtype=str)
        meta = {
            "recipe": algorithm.name,
            "params": algorithm.params.model_dump(mode="json"),
            **(metadata or {}),
        }
        return cls(
            algorithm,
            interactions.user_ids,
            interactions.item_ids,
            interactions.matrix,
            item_popularity(interactions.matrix),
            meta,
            titles,
        )

    @property
    def recipe(self) -> str:
        return str(self.metadata.get("recipe", self.algorithm.name))

    @property
    def memory_bytes(self) -> int:
        arrays = [self.user_ids, self.item_ids, self.popularity, *self.algorithm.to_arrays().values()]
        sparse = self.user_items.data.nbytes + self.user_items.indices.nbytes + self.user_items.indptr.nbytes
        return int(sum(a.nbytes for a in arrays) + sparse)

    def user_index(self, user_id: str) -> int | None:
        return index_of(self.user_ids, user_id)

    def item_index(self, item_id: str) -> int | None:
        return index_of(self.item_ids, item_id)

    def _require_item(self, item_id: str) -> int:
        index = self.item_index(item_id)
        if index is None:
            raise NotFound(f"unknown item {item_id!r}", details={"item_id": item_id})
        return index

    def _history_of(self, user: int | None, extra_history: ExtraHistory | None) -> History | None:
        """The user's training history plus ``extra_history``; None when there is neither."""
        if extra_history is None:
            return None if user is None else user_history(self.user_items, user)
        pairs = extra_history.items() if isinstance(extra_history, Mapping) else extra_history
        idx, weights = [], []
        for entry in pairs:
            item_id, weight = (entry, 1.0) if isinstance(entry, str) else entry
            index = self.item_index(item_id)
            if index is not None:
                idx.append(index)
                weights.append(float(weight))
        if user is not None:
            base = user_history(self.user_items, user)
            idx.extend(base.item_indices.tolist())
            weights.extend(base.weights.tolist())
        return make_history(np.array(idx, np.int64), np.array(weights, np.float32), self.algorithm.n_items)

    def _indices(self, item_ids: Iterable[str]) -> np.ndarray:
        found = (self.item_index(i) for i in item_ids)
        return np.array([i for i in found if i is not None], np.int64)

    def _mask_from_filters(
        self, filters: Mapping[str, Any] | None, candidate_mask: np.ndarray | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not filters:
            return candidate_mask, None
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise InvalidParams(
                "unknown recommendation filters", details={"unknown": sorted(unknown), "known": FILTER_KEYS}
            )
        if "item_ids" in filters:
            allowed = np.zeros(self.item_ids.shape[0], bool)
            allowed[self._indices(filters["item_ids"])] = True
            candidate_mask = allowed if candidate_mask is None else candidate_mask & allowed
        excluded = self._indices(filters.get("exclude_item_ids", ()))
        return candidate_mask, excluded

    def _plan(
        self,
        user_id: str,
        k: int,
        exclude_seen: bool,
        exclude_items: Sequence[str],
        candidate_mask: np.ndarray | None,
        extra_history: ExtraHistory | None,
        filters: Mapping[str, Any] | None,
    ) -> _Plan:
        if k < 1:
            raise InvalidParams("k must be at least 1")
        user = self.user_index(user_id)
        history = self._history_of(user, extra_history) if extra_history is not None else None
        candidate_mask, filtered_out = self._mask_from_filters(filters, candidate_mask)
        parts = [self._indices(exclude_items)] if exclude_items else []
        if filtered_out is not None:
            parts.append(filtered_out)
        if exclude_seen:
            parts.append(history.item_indices if history is not None else self._seen(user))
        excluded = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else None)
        # None: an unknown user with no usable history, served the popularity list
        target: int | History | None = history if history is not None and history.item_indices.size else user
        return _Plan(target, k, excluded, candidate_mask)

    def _finish(self, plan: _Plan, scores: np.ndarray, *, fallback: bool) -> RecommendResult:
        apply_filters(scores, plan.excluded, plan.candidate_mask)
        return self._result(*top_k(scores, plan.k), fallback=fallback)

    def _serve(self, plan: _Plan) -> RecommendResult:
        if plan.target is None:
            return self._finish(plan, self.popularity.copy(), fallback=True)
        idx, vals = self.algorithm.recommend(
            plan.target, plan.k, exclude=plan.excluded, candidate_mask=plan.candidate_mask
        )
        return self._result(idx, vals, fallback=False)

    def recommend(
        self,
        user_id: str,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        exclude_items: Sequence[str] = (),
        candidate_mask: np.ndarray | None = None,
        extra_history: ExtraHistory | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> RecommendResult:
        """Top-k items for a user, folding ``extra_history`` (events newer than the model) in.

        ``filters`` is the serving API's form of the same options: ``{"item_ids": [...]}`` restricts
        the candidates, ``{"exclude_item_ids": [...]}`` removes items.
        """
        plan = self._plan(user_id, k, exclude_seen, exclude_items, candidate_mask, extra_history, filters)
        return self._serve(plan)

    def _seen(self, user: int | None) -> np.ndarray:
        if user is None:
            return np.zeros(0, np.int64)
        return self.user_items.indices[self.user_items.indptr[user] : self.user_items.indptr[user + 1]]

    def _result(self, idx: np.ndarray, scores: np.ndarray, *, fallback: bool) -> RecommendResult:
        return RecommendResult(self.item_ids[idx].tolist(), scores.tolist(), fallback, idx)

    def similar(self, item_id: str, k: int = 10) -> RecommendResult:
        idx, vals = self.algorithm.similar_items(self._require_item(item_id), k)
        return self._result(idx, vals, fallback=False)

    def explain(
        self, user_id: str, item_id: str, *, extra_history: ExtraHistory | None = None, limit: int = 10
    ) -> list[tuple[str, float]]:
        """The user's history items that pushed ``item_id`` up most ("because you watched ...")."""
        target = self._require_item(item_id)
        history = self._history_of(self.user_index(user_id), extra_history)
        if history is None or history.item_indices.size == 0:
            return []
        pairs = self.algorithm.explain(history.item_indices, target, history.weights)[:limit]
        return [(str(self.item_ids[i]), c) for i, c in pairs]

    def recommend_batch(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Serving form: each request ``{"user_id", "k", "exclude_seen", "filters"}`` ->
        ``{"items": [{"item_id", "score", "title"?}], "fallback"}``.

        Known users are scored together with one ``score_users`` call (one matrix product for the
        batch instead of one matrix-vector product per request).
        """
        plans = [
            self._plan(
                str(r["user_id"]),
                int(r.get("k", 10)),
                bool(r.get("exclude_seen", True)),
                (),
                None,
                None,
                r.get("filters") or None,
            )
            for r in requests
        ]
        results: list[RecommendResult | None] = [None] * len(plans)
        # a user-independent model (popularity) gains nothing from a batched product
        batchable = self.algorithm.n_users is not None
        known = [i for i, plan in enumerate(plans) if batchable and isinstance(plan.target, int)]
        if known:
            users = np.array([plans[i].target for i in known], np.int64)
            scores = np.array(self.algorithm.score_users(users, self.user_items[users]), dtype=np.float32)
            for row, i in enumerate(known):
                results[i] = self._finish(plans[i], scores[row], fallback=False)
        return [
            (r if r is not None else self._serve(p)).to_dict(self.item_titles)
            for r, p in zip(results, plans, strict=True)
        ]
