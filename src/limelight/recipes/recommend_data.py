"""What every recommender recipe shares: the common parameters, the training data (interactions,
live events of the dataset, the item catalog) and saving the trained model as one ``.npz``."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams


class CommonParams(RecipeParams):
    event_weights: dict[str, float] = Field(
        default_factory=dict, description="weight per event type (view, play, complete, click, rate, purchase, "
                                          "skip); a skip may be negative")
    include_live_events: bool = Field(True, description="train on the events posted for this dataset through "
                                                         "the events API too")
    rating_as_weight: bool = Field(False, description="use ratings as confidence weights (default: each rating "
                                                      "counts as one interaction)")
    holdout_fraction: float = Field(0.2, gt=0, lt=0.9, description="share of each user's items held out")
    split_by: Literal["random", "time"] = Field("random", description="hold out random or the latest items")
    k: int = Field(10, ge=1, le=100, description="cutoff of the ranking metrics")
    seed: int = 42

    @field_validator("event_weights")
    @classmethod
    def _known_event_types(cls, value: dict[str, float]) -> dict[str, float]:
        from limelight.recsys.interactions import EVENT_TYPES

        unknown = set(value) - set(EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown event types {sorted(unknown)}; use {list(EVENT_TYPES)}")
        return value


class TrainingData:
    def __init__(self, interactions: Any, catalog: Any, events_max_seq: int, weights: dict[str, float],
                 events_dataset: str | None = None, items_table: Any = None) -> None:
        self.interactions = interactions
        self.items_table = items_table
        self.catalog = catalog
        self.events_max_seq = events_max_seq
        self.event_weights = weights
        self.events_dataset = events_dataset

    @property
    def catalog_columns(self) -> list[str]:
        return list(self.catalog.columns) if self.catalog is not None else []


def recommend_example(data: TrainingData) -> dict[str, Any]:
    """The model card's example call: five items for the user with the most history."""
    counts = np.diff(data.interactions.matrix.tocsr().indptr)
    return {"verb": "recommend", "body": {"user_id": str(data.interactions.user_ids[int(np.argmax(counts))]), "k": 5}}


def recommend_limitations(data: TrainingData, *, cold_items: bool = False) -> list[str]:
    found = ["A user the training data did not have gets the most popular items (`fallback: popularity`) until "
             "the model is retrained or live events arrive.",
             f"Trained on {data.interactions.n_users:,} users and {data.interactions.n_items:,} items."]
    if not cold_items:
        found.append("Items added to the catalog after training are never recommended until the model is retrained.")
    if data.catalog is None:
        found.append("No item catalog was given: answers carry item ids only, and filters are not available.")
    return found


def load_training_data(ctx: JobContext, params: CommonParams, *, catalog_items: bool = False) -> TrainingData:
    """Interactions (+ live events) and the item catalog; ``catalog_items`` gives every item of the
    ``items`` dataset a column, interactions or not (the cold items of ``recommend/hybrid``)."""
    import pyarrow.parquet as pq

    from limelight.recsys.catalog import Catalog
    from limelight.recsys.interactions import EventWeights, build_interactions

    weights = EventWeights(**params.event_weights)
    table = pq.read_table(ctx.dataset_path())
    users = np.asarray(table.column("user_id").to_numpy(zero_copy_only=False), dtype=object)
    items = np.asarray(table.column("item_id").to_numpy(zero_copy_only=False), dtype=object)
    values = _row_weights(table, weights, params.rating_as_weight)
    stamps = _timestamps(table)
    events_max_seq, events_dataset = 0, None
    if params.include_live_events:
        live = ctx.live_events()
        events_dataset = live.dataset
        if live.rows:
            ctx.log(f"adding {len(live.rows)} live events")
            users = np.concatenate([users, np.array([r[0] for r in live.rows], dtype=object)])
            items = np.concatenate([items, np.array([r[1] for r in live.rows], dtype=object)])
            values = np.concatenate([values, np.array([weights.weight(r[2], r[3]) for r in live.rows], np.float32)])
            live_stamps = np.array([int(r[4]) for r in live.rows], np.int64)
            stamps = np.concatenate([stamps if stamps is not None else np.zeros(len(table), np.int64), live_stamps])
        events_max_seq = live.max_seq
    items_table = pq.read_table(ctx.dataset_path("items")) if ctx.has_dataset("items") else None
    extra = None
    if catalog_items and items_table is not None:
        extra = [str(i) for i in items_table.column("item_id").to_pylist() if i is not None]
    interactions = build_interactions(users, items, values, stamps, item_catalog=extra)
    if interactions.n_users < 2 or interactions.n_items < 2:
        raise InvalidParams("Not enough interactions to train a recommender.",
                            details={"users": interactions.n_users, "items": interactions.n_items})
    catalog = Catalog.from_table(interactions.item_ids, items_table) if items_table is not None else None
    return TrainingData(interactions, catalog, events_max_seq, params.event_weights, events_dataset, items_table)


def _row_weights(table: Any, weights: Any, rating_as_weight: bool) -> np.ndarray:
    names = set(table.column_names)
    n = table.num_rows
    if "weight" in names:
        return np.asarray(table.column("weight").fill_null(1.0).to_numpy(zero_copy_only=False), np.float32)
    if "event" in names:
        types = table.column("event").to_pylist()
        value_column = "rating" if "rating" in names else ("value" if "value" in names else None)
        ratings = table.column(value_column).to_pylist() if value_column else [None] * n
        return np.array([weights.weight(t or "view", r) for t, r in zip(types, ratings, strict=True)], np.float32)
    if "rating" in names and rating_as_weight:
        return np.asarray(table.column("rating").fill_null(1.0).to_numpy(zero_copy_only=False), np.float32)
    return np.ones(n, np.float32)


def _timestamps(table: Any) -> np.ndarray | None:
    if "timestamp" not in table.column_names:
        return None
    return np.asarray(table.column("timestamp").fill_null(0).to_numpy(zero_copy_only=False), np.int64)


def save(ctx: JobContext, data: TrainingData, algorithm: Any, params: CommonParams, metrics: dict[str, float],
          winner: str) -> None:
    from limelight.recsys.artifact import save_model
    from limelight.recsys.trained import TrainedRecommender

    titles = None
    if data.catalog is not None and data.catalog.titles is not None:
        titles = dict(zip(data.interactions.item_ids.tolist(), data.catalog.titles, strict=True))
    metadata = {"metrics": metrics, "winner": winner, "events_max_seq": data.events_max_seq,
                "events_dataset": data.events_dataset,
                "event_weights": data.event_weights,
                "catalog": data.catalog.to_metadata() if data.catalog is not None else None}
    trained = TrainedRecommender.from_interactions(algorithm, data.interactions, metadata=metadata, item_titles=titles)
    ctx.progress(95, "saving the artifact")
    save_model(ctx.output_path(".npz"), trained)
