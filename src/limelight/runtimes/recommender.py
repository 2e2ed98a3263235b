"""The recommender runtime: a ``limelight.recsys`` artifact plus live events and the item catalog.

``recommend`` folds the user's events that arrived after the model was trained into their history
(``TrainedRecommender.recommend(extra_history=…)``), so a play changes the next answer without
retraining; metadata filters become a candidate mask from the ``Catalog`` stored in the artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limelight.errors import ValidationFailed
from limelight.runtimes.base import LoadContext, io_spec, refuse_pickle

MAX_K = 1000


class RecommenderRuntime:
    """An item is ``{"user_id": str, "k": int, "exclude_seen": bool, "filters": dict}``."""

    max_batch_size = 32

    def __init__(self, model: Any, catalog: Any, *, org: str | None, feed: Any, memory_bytes: int) -> None:
        from limelight.recsys.interactions import EventWeights

        self.model = model
        self.catalog = catalog
        self.memory_bytes = memory_bytes
        self._org = org
        self._feed = feed
        self._weights = EventWeights(**model.metadata.get("event_weights", {}))
        self._trained_seq = int(model.metadata.get("events_max_seq", 0))
        # the event stream the model was trained with; artifacts older than streams folded in all
        self._events_dataset: str | None = model.metadata.get("events_dataset")
        self._any_dataset = "events_dataset" not in model.metadata

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> RecommenderRuntime:
        refuse_pickle(artifact_path)
        from limelight.recsys.artifact import load_model
        from limelight.recsys.catalog import Catalog

        model = load_model(artifact_path)
        catalog = Catalog.from_metadata(model.item_ids, model.item_titles, model.metadata.get("catalog"))
        return cls(model, catalog, org=context.org, feed=context.services.get("event_feed"),
                   memory_bytes=int(model.memory_bytes) + (8 << 20))

    # ---- the Runtime surface ------------------------------------------------------------------

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        return [self.recommend(**item) for item in inputs]

    def signature(self) -> dict[str, Any]:
        return {
            "inputs": [io_spec("user_id", "string", [-1]), io_spec("k", "int64", [-1]),
                       io_spec("exclude_seen", "bool", [-1]), io_spec("filters", "object", [-1])],
            "outputs": [io_spec("items", "object", [-1, -1]), io_spec("fallback", "string", [-1])],
            "filterable": sorted(self.catalog.columns),
        }

    def validate_input(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise ValidationFailed("a recommendation request is an object", details={"field": "inputs"})
        return {"user_id": _user_id(item), "k": _k(item), "exclude_seen": _flag(item, "exclude_seen", True),
                "filters": _filters(item)}

    def close(self) -> None:
        return None

    # ---- verbs --------------------------------------------------------------------------------

    def recommend(self, user_id: str, k: int = 10, exclude_seen: bool = True,
                  filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        filters = dict(filters or {})
        mask = self.catalog.candidate_mask(filters)
        model_filters = {key: filters[key] for key in ("item_ids", "exclude_item_ids") if key in filters}
        result = self.model.recommend(user_id, k, exclude_seen=exclude_seen, candidate_mask=mask,
                                      extra_history=self.live_history(user_id), filters=model_filters or None)
        return {"items": self._describe(result), "fallback": "popularity" if result.fallback else None}

    def similar(self, item_id: str, k: int = 10) -> dict[str, Any]:
        result = self.model.similar(item_id, k)
        return {"item": {"item_id": item_id, **self._item_info(item_id)}, "items": self._describe(result)}

    def explain(self, user_id: str, item_id: str | None = None, k: int = 5) -> dict[str, Any]:
        """The history items that drove a recommendation ("because you watched …")."""
        history = self.live_history(user_id)
        targets = [item_id] if item_id else [i["item_id"] for i in self.recommend(user_id, k)["items"]]
        explanations = []
        for target in targets:
            because = self.model.explain(user_id, target, extra_history=history, limit=5)
            explanations.append({
                "item_id": target, **self._item_info(target),
                "because": [{"item_id": i, "contribution": round(float(c), 6), **self._item_info(i)}
                            for i, c in because],
            })
        return {"user_id": user_id, "explanations": explanations}

    # ---- helpers ------------------------------------------------------------------------------

    def live_history(self, user_id: str) -> dict[str, float] | None:
        """The user's events newer than the model, as item weights (None when there are none)."""
        if self._feed is None or self._org is None:
            return None
        org_id = self._feed.org_id(self._org)
        events = self._feed.history(org_id, user_id, after_seq=self._trained_seq, dataset=self._events_dataset,
                                    any_dataset=self._any_dataset) if org_id else []
        if not events:
            return None
        weights: dict[str, float] = {}
        for event in events:
            weights[event.item_id] = weights.get(event.item_id, 0.0) + self._weights.weight(event.type, event.value)
        return weights

    def _describe(self, result: Any) -> list[dict[str, Any]]:
        return [{"item_id": item_id, "score": round(float(score), 6), **self.catalog.describe(int(index))}
                for item_id, score, index in zip(result.item_ids, result.scores, result.item_indices.tolist(),
                                                 strict=True)]

    def _item_info(self, item_id: str) -> dict[str, Any]:
        index = self.model.item_index(item_id)
        return self.catalog.describe(index) if index is not None else {}


def _user_id(item: Mapping[str, Any]) -> str:
    user_id = item.get("user_id")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 256:
        raise ValidationFailed("user_id must be a non-empty string (max 256)", details={"field": "user_id"})
    return user_id


def _k(item: Mapping[str, Any]) -> int:
    k = item.get("k", 10)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationFailed(f"k must be an integer in 1..{MAX_K}", details={"field": "k"})
    return k


def _flag(item: Mapping[str, Any], name: str, default: bool) -> bool:
    value = item.get(name, default)
    if not isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a boolean", details={"field": name})
    return value


def _filters(item: Mapping[str, Any]) -> dict[str, Any]:
    filters = item.get("filters") or {}
    if not isinstance(filters, dict):
        raise ValidationFailed("filters must be an object", details={"field": "filters"})
    for key in ("item_ids", "exclude_item_ids"):
        if key in filters and (not isinstance(filters[key], list) or len(filters[key]) > 10_000
                               or not all(isinstance(v, str) for v in filters[key])):
            raise ValidationFailed(f"filters.{key} must be a list of item ids", details={"field": f"filters.{key}"})
    return filters
