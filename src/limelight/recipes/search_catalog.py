"""``search/catalog``: semantic + lexical search over an ``items`` dataset.

Each item's indexed fields (title, genres, description, tags… with integer weights) are embedded
together with the bundled all-MiniLM-L6-v2 and indexed with BM25 (``bm25s``; a field's weight
repeats its tokens). Metrics on the version: self-retrieval@10 per mode (an item's title as the
query finds the item), encode and index seconds, and, when the catalog is above ``ann_threshold``
and so served through HNSW, the measured recall@10 of HNSW against exact search on sample queries.
The artifact is one ``limelight.search/1`` ``.npz`` (see ``limelight.search.artifact``).
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult

_COLUMN = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class SearchParams(RecipeParams):
    fields: dict[str, int] = Field(
        default_factory=lambda: {"title": 3, "genres": 1, "description": 1, "tags": 1},
        description="columns to index and their BM25 weight (1..10); all are embedded, absent ones skipped")
    semantic_weight: float = Field(0.5, ge=0, le=1, description="share of the semantic side in hybrid fusion")
    fusion: Literal["mix", "rrf"] = Field("mix", description="normalised score mix or reciprocal-rank fusion")
    ann_threshold: int = Field(100_000, ge=0, description="above this many items serve through an HNSW index")
    hnsw_m: int = Field(16, ge=2, le=128, description="HNSW graph degree")
    hnsw_ef_construction: int = Field(200, ge=8, le=4096, description="HNSW build beam")
    hnsw_ef_search: int = Field(64, ge=8, le=4096, description="HNSW query beam")
    seed: int = Field(42, ge=0, le=2**32 - 1)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, int]) -> dict[str, int]:
        if not value or len(value) > 20:
            raise ValueError("index 1..20 fields")
        for name, weight in value.items():
            if not _COLUMN.match(name) or name == "item_id" or not 1 <= weight <= 10:
                raise ValueError(f"field {name!r}: a column name with a weight in 1..10")
        return value


class CatalogSearchRecipe:
    name: ClassVar[str] = "search/catalog"
    task: ClassVar[str] = "search"
    dataset_kind: ClassVar[str] = "items"
    description: ClassVar[str] = "Hybrid (BM25 + MiniLM) search over an items catalog, with metadata filters."
    Params: ClassVar[type[RecipeParams]] = SearchParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        assert isinstance(params, SearchParams)
        import pyarrow.parquet as pq

        from limelight.search.artifact import save_model
        from limelight.search.building import build_model, minilm_encoder

        table = pq.read_table(ctx.dataset_path())
        present = [name for name in params.fields if name in table.column_names]
        if not present:
            raise InvalidParams("none of the fields to index is a column of the dataset",
                                details={"field": "params.fields", "columns": table.column_names})
        ctx.progress(5, f"{table.num_rows} items; indexing {present}")
        encoder = minilm_encoder(ctx.workdir / "encoder-cache")
        try:
            def log(share: float, message: str) -> None:
                ctx.check_cancelled()
                ctx.progress(5 + 75 * share, message)

            model = build_model(table, params.model_dump(mode="json"), encoder, log)
            ctx.progress(85, "evaluating")
            metrics = {**model.metadata["metrics"], **_evaluate(model, params, encoder)}
        finally:
            encoder.close()
        model.metadata["metrics"] = metrics
        ctx.log(f"self_retrieval@10 hybrid={metrics.get('self_retrieval@10.hybrid')}")
        ctx.progress(95, "saving the artifact")
        save_model(ctx.output_path(".npz"), model)
        return RecipeResult(
            runtime="catalog-search", format="npz", metrics=metrics, params=params.model_dump(mode="json"),
            gate_metric="self_retrieval@10.hybrid", summary={"fields": model.metadata["fields"]},
            signature={"inputs": [{"name": "query", "dtype": "object"}], "outputs": [{"name": "items"}],
                       "filterable": sorted(model.metadata["catalog"]["columns"])},
            example={"verb": "search", "body": {"query": _example_query(table, present), "k": 5}},
            limitations=["Finds only the items of the catalog it indexed: new items appear after retraining.",
                         "The semantic half embeds English text (all-MiniLM-L6-v2); other languages match "
                         "by words only."])


def _example_query(table: Any, fields: list[str]) -> str:
    """The first words of the first non-empty indexed text: a query the catalog can answer."""
    for name in fields:
        for value in table.column(name).to_pylist()[:100]:
            words = str(value or "").split()
            if words:
                return " ".join(words[:3])
    return "film"


def _evaluate(model: object, params: SearchParams, encoder: object) -> dict[str, float]:
    from limelight.recsys.catalog import Catalog
    from limelight.search.building import ann_recall, encode_with, evaluate
    from limelight.search.dense import DenseIndex
    from limelight.search.engine import SearchEngine

    started = time.perf_counter()
    ann = model.item_ids.shape[0] > params.ann_threshold  # type: ignore[attr-defined]
    dense = DenseIndex(model.embeddings, ann=ann, m=params.hnsw_m,  # type: ignore[attr-defined]
                       ef_construction=params.hnsw_ef_construction, ef_search=params.hnsw_ef_search,
                       seed=params.seed, threads=2)
    metrics: dict[str, float] = {"index_build_seconds": round(time.perf_counter() - started, 3)}
    catalog = Catalog.from_metadata(model.item_ids, model.titles, model.metadata["catalog"])  # type: ignore[attr-defined]
    engine = SearchEngine(model, dense, catalog, encode_with(encoder))  # type: ignore[arg-type]
    metrics.update(evaluate(engine, params.seed))
    if ann:
        rng = np.random.default_rng(params.seed)  # item vectors as queries: the catalog's own neighbourhoods
        n = dense.embeddings.shape[0]
        sample = dense.embeddings[rng.choice(n, size=min(200, n), replace=False)]
        metrics["ann_recall@10"] = round(ann_recall(dense, sample), 4)
    return metrics

