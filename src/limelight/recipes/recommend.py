"""Recommender recipes: ``recommend/popularity|itemknn|als|bpr|ease``, ``recommend/auto`` and
``recommend/hybrid`` (content-based cold start, ``recommend_hybrid.py``).

Each trains on an ``interactions`` dataset plus the live events posted for that dataset (mapped to
weights by ``event_weights``; events of the org's other datasets are not read), evaluates on a per-user holdout with full ranking (no sampled metrics), refits
on everything, and saves one ``.npz`` artifact (no pickle) with the item catalog's titles and
filterable metadata when an ``items`` dataset is attached.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult

Candidate = Literal["popularity", "itemknn", "als", "bpr", "ease"]
ALGORITHMS: tuple[Candidate, ...] = ("popularity", "itemknn", "als", "bpr", "ease")
METRIC_NAMES = ("ndcg", "recall", "map", "coverage", "popularity_bias")


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


class AutoParams(CommonParams):
    candidates: list[Candidate] = Field(
        default_factory=lambda: list(ALGORITHMS), min_length=1, description="recipes to compare")
    time_budget_s: float = Field(300.0, gt=0, le=24 * 3600, description="tuning time budget")
    cold_start: Literal["auto", "off"] = Field(
        "auto", description="auto: when the items dataset has items without interactions and the winner is "
                            "ease, als or bpr, place them by their text (as recommend/hybrid does)")


def _params_type(algorithm: str) -> type[RecipeParams]:
    from limelight.recsys.algorithms import params_class

    own = params_class(algorithm)
    return type(f"{algorithm.title()}RecipeParams", (CommonParams, own), {"__doc__": own.__doc__})


class RecommendRecipe:
    task: ClassVar[str] = "recommend"
    dataset_kind: ClassVar[str] = "interactions"

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.name = f"recommend/{algorithm}"
        self.description = f"{algorithm} recommender, evaluated with full ranking on a per-user holdout."
        self.Params = AutoParams if algorithm == "auto" else _params_type(algorithm)

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        assert isinstance(params, CommonParams)
        data = load_training_data(ctx, params)
        ctx.progress(10, f"{data.interactions.n_users} users, {data.interactions.n_items} items")
        if self.algorithm == "auto":
            from limelight.recipes.recommend_hybrid import auto_cold_start

            assert isinstance(params, AutoParams)
            algorithm, metrics, table, winner = _train_auto(ctx, data, params)
            if params.cold_start == "auto":
                algorithm, data = auto_cold_start(ctx, data, params, algorithm, metrics)
        else:
            algorithm, metrics, table = _train_one(ctx, data, self.algorithm, params)
            winner = self.algorithm
        save(ctx, data, algorithm, params, metrics, winner)
        return RecipeResult(
            runtime="recommender", format="npz", metrics=metrics, gate_metric=f"ndcg@{params.k}",
            params=params.model_dump(mode="json"), summary={"winner": winner, "candidates": table},
            signature={"inputs": [{"name": "user_id", "dtype": "string"}], "outputs": [{"name": "items"}],
                       "filterable": sorted(data.catalog_columns)},
        )


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


def _train_one(ctx: JobContext, data: TrainingData, algorithm: str,
               params: CommonParams) -> tuple[Any, dict[str, float], list[dict[str, Any]]]:
    from limelight.recsys.algorithms import create
    from limelight.recsys.evaluation import evaluate, holdout_split

    own = {k: v for k, v in params.model_dump().items() if k not in CommonParams.model_fields}
    matrix, stamps = data.interactions.matrix, data.interactions.timestamps
    split = holdout_split(matrix, test_fraction=params.holdout_fraction, seed=params.seed, by=params.split_by,
                          timestamps=stamps)
    ctx.check_cancelled()
    started = time.perf_counter()
    evaluated = create(algorithm, own).fit(split.train)
    ctx.progress(50, "evaluating on the holdout (full ranking)")
    ranking = evaluate(evaluated, split.train, split.test, k=params.k)
    ctx.check_cancelled()
    ctx.progress(70, "refitting on all interactions")
    final = create(algorithm, own).fit(matrix, timestamps=stamps)
    seconds = time.perf_counter() - started
    metrics = _metrics(ranking.__dict__, params.k) | {"train_seconds": round(seconds, 3),
                                                      "users_evaluated": ranking.users}
    ctx.log(f"{algorithm}: ndcg@{params.k}={metrics[f'ndcg@{params.k}']:.4f}")
    return final, metrics, [{"recipe": algorithm, "params": own, **metrics}]


def _metrics(raw: dict[str, Any], k: int) -> dict[str, float]:
    return {f"{name}@{k}": round(float(raw[name]), 6) for name in METRIC_NAMES if name in raw}


def _train_auto(ctx: JobContext, data: TrainingData,
                params: AutoParams) -> tuple[Any, dict[str, float], list[dict[str, Any]], str]:
    from limelight.recsys.auto import auto_recommend

    def progress(percent: float, message: str) -> None:
        ctx.progress(10 + 0.85 * percent, message)

    result = auto_recommend(
        data.interactions.matrix, timestamps=data.interactions.timestamps, candidates=tuple(params.candidates),
        k=params.k, split_by=params.split_by, seed=params.seed, time_budget_s=params.time_budget_s,
        progress=progress, check_cancelled=ctx.check_cancelled)
    summary = result.summary()
    metrics = {name: round(float(value), 6) for name, value in summary["validation_metrics"].items()}
    table = [{**row, **_metrics(row, params.k)} for row in summary["table"]]
    ctx.log(f"auto picked {result.winner} ({result.params}); ndcg@{params.k}={metrics.get(f'ndcg@{params.k}')}")
    return result.model, metrics, table, result.winner


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


def recommend_recipes() -> list[Any]:
    from limelight.recipes.recommend_hybrid import HybridRecipe

    return [*(RecommendRecipe(name) for name in (*ALGORITHMS, "auto")), HybridRecipe()]
