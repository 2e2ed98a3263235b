"""The ``catalog-search`` runtime: a ``limelight.search/1`` artifact plus a MiniLM query encoder.

An input is a search request (``{"query", "k", "filters", "mode"}``, or a bare query string) and
its output ``{"items": [...], "index": "exact" | "approximate"}``; one batch encodes its queries
in one encoder call. Catalogs above the artifact's ``ann_threshold`` get an HNSW index built here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from limelight.errors import ValidationFailed
from limelight.runtimes.base import LoadContext, io_spec, refuse_pickle

_BOUNDS = {"ann_threshold": (0, 1 << 40, 100_000), "hnsw_m": (2, 128, 16),
           "hnsw_ef_construction": (8, 4096, 200), "hnsw_ef_search": (8, 4096, 64), "seed": (0, 2**32 - 1, 42)}


class CatalogSearchRuntime:
    max_batch_size = 16

    def __init__(self, engine: Any, encoder: Any, memory_bytes: int) -> None:
        self.engine = engine
        self._encoder = encoder
        self.memory_bytes = memory_bytes

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> CatalogSearchRuntime:
        refuse_pickle(artifact_path)
        from limelight.search.artifact import load_model
        from limelight.search.building import encode_with, minilm_encoder
        from limelight.search.dense import DenseIndex
        from limelight.search.engine import SearchEngine

        model = load_model(artifact_path)
        catalog = _catalog(model)
        ann = _ann_params(model.metadata.get("params", {}))
        dense = DenseIndex(model.embeddings, ann=model.item_ids.shape[0] > ann["ann_threshold"], m=ann["hnsw_m"],
                           ef_construction=ann["hnsw_ef_construction"], ef_search=ann["hnsw_ef_search"],
                           seed=ann["seed"], threads=2)
        # one thread: a query is a few tokens, and a second spinning thread doubled p50 on 2 busy cores
        encoder = minilm_encoder(context.cache_dir, threads=1)
        if encoder.dim != dense.embeddings.shape[1]:
            encoder.close()
            raise ValidationFailed(f"search artifact embeddings have {dense.embeddings.shape[1]} dimensions; "
                                   f"the query encoder makes {encoder.dim}", details={"field": "artifact"})
        memory = dense.memory_bytes + int(encoder.memory_bytes) + sum(v.nbytes for v in model.fields.values())
        return cls(SearchEngine(model, dense, catalog, encode_with(encoder)), encoder, memory)

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        return self.engine.search_many(inputs)

    def signature(self) -> dict[str, Any]:
        return {"inputs": [{**io_spec("query", "object", [-1]), "example": {"query": "a sample query", "k": 3}}],
                "outputs": [io_spec("items", "object", [-1, -1]), io_spec("index", "string", [-1])],
                "filterable": sorted(self.engine.catalog.columns), "fields": list(self.engine.model.fields)}

    def validate_input(self, item: Any) -> dict[str, Any]:
        from limelight.search.requests import parse_request

        request = parse_request(item)
        self.engine.mask(request["filters"])  # a bad filter fails its own request, not the batch
        return request

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None


def _catalog(model: Any) -> Any:
    from limelight.recsys.catalog import Catalog

    meta = model.metadata.get("catalog")
    if meta is not None and not (isinstance(meta, dict) and isinstance(meta.get("columns", {}), dict)
                                 and all(isinstance(v, list) for v in meta.get("columns", {}).values())):
        raise ValidationFailed("search artifact catalog columns are malformed", details={"field": "artifact"})
    return Catalog.from_metadata(model.item_ids, model.titles, meta)


def _ann_params(params: dict[str, Any]) -> dict[str, int]:
    out = {}
    for name, (low, high, default) in _BOUNDS.items():
        value = params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(f"search artifact param {name} must be an integer in {low}..{high}",
                                   details={"field": "artifact"})
        out[name] = value
    return out
