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

from pydantic import Field

from limelight.recipes.base import JobContext, RecipeParams, RecipeResult
from limelight.recipes.recommend_data import (
    CommonParams,
    TrainingData,
    load_training_data,
    recommend_example,
    recommend_limitations,
    save,
)
from limelight.recipes.recommend_hybrid import HybridRecipe, auto_cold_start, cold_start_data

Candidate = Literal["popularity", "itemknn", "als", "bpr", "ease"]
ALGORITHMS: tuple[Candidate, ...] = ("popularity", "itemknn", "als", "bpr", "ease")
METRIC_NAMES = ("ndcg", "recall", "map", "coverage", "popularity_bias")


class AutoParams(CommonParams):
    candidates: list[Candidate] = Field(
        default_factory=lambda: list(ALGORITHMS), min_length=1, description="recipes to compare")
    time_budget_s: float = Field(300.0, gt=0, le=24 * 3600, description="tuning time budget")
    blend: bool = Field(True, description="also try the two best candidates blended, weights tuned on "
                                          "validation; kept only when it beats each of them (not tried when "
                                          "cold_start places catalog items without interactions)")
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
            assert isinstance(params, AutoParams)
            extended = cold_start_data(ctx, data, params) if params.cold_start == "auto" else None
            # a blend cannot place items by text, so a catalog with such items keeps to single recipes
            algorithm, metrics, table, winner = _train_auto(ctx, data, params, blend=params.blend and extended is None)
            if extended is not None:
                algorithm, data = auto_cold_start(ctx, data, extended, params, algorithm, metrics)
        else:
            algorithm, metrics, table = _train_one(ctx, data, self.algorithm, params)
            winner = self.algorithm
        save(ctx, data, algorithm, params, metrics, winner)
        return RecipeResult(
            runtime="recommender", format="npz", metrics=metrics, gate_metric=f"ndcg@{params.k}",
            params=params.model_dump(mode="json"), summary={"winner": winner, "candidates": table},
            signature={"inputs": [{"name": "user_id", "dtype": "string"}], "outputs": [{"name": "items"}],
                       "filterable": sorted(data.catalog_columns), "catalog_size": data.interactions.n_items},
            example=recommend_example(data), limitations=recommend_limitations(data),
        )


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


def _train_auto(ctx: JobContext, data: TrainingData, params: AutoParams,
                blend: bool) -> tuple[Any, dict[str, float], list[dict[str, Any]], str]:
    from limelight.recsys.auto import auto_recommend

    def progress(percent: float, message: str) -> None:
        ctx.progress(10 + 0.85 * percent, message)

    result = auto_recommend(
        data.interactions.matrix, timestamps=data.interactions.timestamps, candidates=tuple(params.candidates),
        k=params.k, split_by=params.split_by, seed=params.seed, time_budget_s=params.time_budget_s,
        blend=blend, progress=progress, check_cancelled=ctx.check_cancelled)
    summary = result.summary()
    metrics = {name: round(float(value), 6) for name, value in summary["validation_metrics"].items()}
    table = [{**row, **_metrics(row, params.k)} for row in summary["table"]]
    ctx.log(f"auto picked {result.winner} ({result.params}); ndcg@{params.k}={metrics.get(f'ndcg@{params.k}')}")
    return result.model, metrics, table, result.winner


def recommend_recipes() -> list[Any]:
    return [*(RecommendRecipe(name) for name in (*ALGORITHMS, "auto")), HybridRecipe()]
