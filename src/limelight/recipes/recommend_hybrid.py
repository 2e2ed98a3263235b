"""``recommend/hybrid``: a collaborative model plus content-based cold start, and the same
mechanism inside ``recommend/auto``.

The job embeds every item of the ``items`` dataset ("title. genres. description", MiniLM), gives
items nobody interacted with a column (the cold items), evaluates on a cold-start item split
(``recsys.cold_start``: cold NDCG@k vs a no-content baseline, warm NDCG@k vs the base model), then
fits the base model on everything and projects the cold items into it
(``recsys.algorithms.hybrid``). The artifact is one ``.npz``; serving needs no text model.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult
from limelight.recipes.recommend_data import (
    CommonParams,
    TrainingData,
    load_training_data,
    recommend_example,
    recommend_limitations,
    save,
)
from limelight.recsys.algorithms.hybrid import HybridParams

COLD_START_BASES = ("ease", "als", "bpr")


class HybridRecipeParams(CommonParams, HybridParams):
    """A collaborative base model plus cold items placed by their text (see ``recsys.algorithms.hybrid``)."""

    cold_fraction: float = Field(0.15, gt=0, lt=0.9, description="share of the items held out entirely "
                                                                  "(all their interactions) to evaluate cold start")


def _hybrid_params(params: Any) -> HybridParams:
    return HybridParams(**{name: getattr(params, name) for name in HybridParams.model_fields})


def item_embeddings(ctx: JobContext, data: TrainingData) -> np.ndarray:
    from limelight.recsys.content import embed_texts, item_texts

    texts = item_texts(data.interactions.item_ids, data.items_table)
    ctx.log(f"embedding {sum(1 for t in texts if t)} item texts with MiniLM")
    return embed_texts(texts, cache_dir=ctx.workdir / "minilm-cache", log=ctx.log)


def _cold_items(data: TrainingData) -> int:
    return int((np.diff(data.interactions.matrix.tocsc().indptr) == 0).sum())


class HybridRecipe:
    task: ClassVar[str] = "recommend"
    dataset_kind: ClassVar[str] = "interactions"
    requires_items: ClassVar[bool] = True
    name = "recommend/hybrid"
    description = ("Collaborative model (EASE/ALS/BPR) whose items without interactions are placed by their text; "
                   "evaluated on a cold-start item split.")
    Params: type[RecipeParams] = HybridRecipeParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.recsys.algorithms.hybrid import Hybrid
        from limelight.recsys.cold_start import evaluate_cold_start

        assert isinstance(params, HybridRecipeParams)
        if not ctx.has_dataset("items"):
            raise InvalidParams("recommend/hybrid needs an items catalog (items_dataset).",
                                details={"field": "items_dataset"})
        data = load_training_data(ctx, params, catalog_items=True)
        ctx.progress(10, f"{data.interactions.n_users} users, {data.interactions.n_items} items, "
                         f"{_cold_items(data)} without interactions")
        embeddings = item_embeddings(ctx, data)
        ctx.check_cancelled()
        ctx.progress(40, "evaluating on a cold-start item split")
        started = time.perf_counter()
        own = _hybrid_params(params)
        report = evaluate_cold_start(data.interactions.matrix, embeddings, own, k=params.k, seed=params.seed,
                                     cold_fraction=params.cold_fraction, test_fraction=params.holdout_fraction)
        ctx.check_cancelled()
        ctx.progress(70, "refitting on all interactions")
        final = Hybrid(own, embeddings).fit(data.interactions.matrix, timestamps=data.interactions.timestamps)
        k = params.k
        metrics = {f"ndcg@{k}": round(report.warm_ndcg, 6), f"recall@{k}": round(report.warm_recall, 6),
                   **{name: round(float(v), 6) for name, v in report.metrics().items()},
                   "cold_items": int(final.cold.shape[0]), "train_seconds": round(time.perf_counter() - started, 3)}
        ctx.log(f"hybrid: cold ndcg@{k}={report.cold_ndcg:.4f} (no content {report.cold_ndcg_baseline:.4f}), "
                f"warm ndcg@{k}={report.warm_ndcg:.4f} (base {report.warm_ndcg_base:.4f})")
        save(ctx, data, final, params, metrics, "hybrid")
        return RecipeResult(
            runtime="recommender", format="npz", metrics=metrics, gate_metric=f"ndcg@{k}",
            params=params.model_dump(mode="json"),
            summary={"winner": "hybrid", "candidates": [{"recipe": "hybrid", "params": own.model_dump(), **metrics}]},
            signature={"inputs": [{"name": "user_id", "dtype": "string"}], "outputs": [{"name": "items"}],
                       "filterable": sorted(data.catalog_columns),
                       "catalog_size": data.interactions.n_items + int(final.cold.shape[0])},
            example=recommend_example(data), limitations=recommend_limitations(data, cold_items=True),
        )


def cold_start_data(ctx: JobContext, data: TrainingData, params: Any) -> TrainingData | None:
    """The training data with the whole catalog, when it has items without interactions; else None."""
    if data.items_table is None:
        return None
    extended = load_training_data(ctx, params, catalog_items=True)
    return extended if _cold_items(extended) else None


def auto_cold_start(ctx: JobContext, data: TrainingData, extended: TrainingData, params: Any, model: Any,
                    metrics: dict[str, Any]) -> tuple[Any, TrainingData]:
    """``recommend/auto``'s last step when the catalog has items without interactions
    (``cold_start_data``): if the winner can take projected items, refit it on ``extended`` with them
    placed by their text (metrics get the cold-start figures); otherwise keep the model and ``data``."""
    from limelight.recsys.algorithms.hybrid import Hybrid
    from limelight.recsys.cold_start import evaluate_cold_start

    cold = _cold_items(extended)
    if model.name not in COLD_START_BASES:
        ctx.log(f"{cold} catalog items have no interactions; {model.name} cannot place them by text")
        return model, data
    ctx.progress(90, f"placing {cold} items without interactions by their text")
    own = HybridParams(base=model.name, base_params=model.params.model_dump(mode="json"))
    embeddings = item_embeddings(ctx, extended)
    report = evaluate_cold_start(extended.interactions.matrix, embeddings, own, k=params.k, seed=params.seed)
    metrics.update({name: round(float(v), 6) for name, v in report.metrics().items()} | {"cold_items": cold})
    hybrid = Hybrid(own, embeddings).fit(extended.interactions.matrix, timestamps=extended.interactions.timestamps)
    return hybrid, extended
