"""Building a search model from an ``items`` table: field texts, MiniLM embeddings, BM25, metrics.

The recipe and the benchmark both call :func:`build_model`, so what is measured is what ships.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from limelight.search.artifact import SearchModel
from limelight.search.lexical import LexicalIndex
from limelight.search.text import embedding_text, weighted_tokens

Log = Callable[[float, str], None]
EVAL_QUERIES = 200


def minilm_encoder(cache_dir: Path | None, max_length: int = 128, threads: int = 2) -> Any:
    """The bundled all-MiniLM-L6-v2 (onnx with a cache directory for its export, torch otherwise)."""
    from limelight.runtimes.base import LoadContext, load_runtime
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    engine = "onnx" if cache_dir is not None else "torch"
    return load_runtime("sentence-embedding", bundled_minilm_dir(),
                        {"engine": engine, "max_length": max_length, "threads": threads},
                        LoadContext(cache_dir=cache_dir))


def encode_with(encoder: Any) -> Callable[[list[str]], np.ndarray]:
    """A sentence-embedding runtime as the engine's query encoder."""
    def encode_texts(texts: list[str]) -> np.ndarray:
        return np.asarray(encoder.predict_batch(texts), np.float32)
    return encode_texts


def encode(encoder: Any, texts: list[str], batch_size: int = 64, log: Log | None = None) -> np.ndarray:
    def progress(done: int, total: int) -> None:
        if log is not None and (done == total or (done // batch_size) % 10 == 0):
            log(done / max(total, 1), f"encoded {done} items")

    rows: np.ndarray = encoder.encode_many(texts, batch_size, progress)
    return rows


def field_texts(table: Any, names: list[str]) -> dict[str, list[str]]:
    """Each requested column as display text (lists joined by ', '); missing columns are skipped."""
    out: dict[str, list[str]] = {}
    for name in names:
        if name not in table.column_names:
            continue
        values = table.column(name).to_pylist()
        out[name] = [", ".join(str(v) for v in value if v is not None) if isinstance(value, list)
                     else ("" if value is None else str(value)) for value in values]
    return out


def build_model(table: Any, params: Mapping[str, Any], encoder: Any, log: Log | None = None) -> SearchModel:
    """Index an ``items`` Arrow table: ``params`` are the recipe's (fields, weights, ANN settings…)."""
    from limelight.recsys.catalog import Catalog

    item_ids = np.asarray([str(i) for i in table.column("item_id").to_pylist()], dtype=str)
    weights = {name: int(w) for name, w in params["fields"].items()}
    texts = field_texts(table, list(weights))
    order = list(texts)
    started = time.perf_counter()
    per_item = [{name: texts[name][n] for name in order} for n in range(len(item_ids))]
    embeddings = encode(encoder, [embedding_text(item, order) for item in per_item], log=log)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    lexical = LexicalIndex.build([weighted_tokens(item, {n: w for n, w in weights.items() if n in texts})
                                  for item in per_item])
    catalog = Catalog.from_table(item_ids, table)
    metadata = {"recipe": "search/catalog", "params": dict(params), "fields": order,
                "catalog": catalog.to_metadata(),
                "metrics": {"items": len(item_ids), "encode_seconds": round(encode_s, 3),
                            "bm25_seconds": round(time.perf_counter() - started, 3)}}
    titles = np.asarray(catalog.titles if catalog.titles is not None else [""] * len(item_ids), dtype=str)
    return SearchModel(item_ids, titles, {n: np.asarray(v, dtype=str) for n, v in texts.items()},
                       embeddings, lexical, metadata)


def evaluate(engine: Any, seed: int = 42) -> dict[str, float]:
    """Self-retrieval (an item's title as the query finds the item in the top 10), per mode."""
    titles = engine.model.fields.get("title")
    if titles is None:
        return {}
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(titles), size=min(EVAL_QUERIES, len(titles)), replace=False)
    sample = [int(i) for i in drawn if str(titles[i]).strip()]
    metrics: dict[str, float] = {}
    for mode in ("hybrid", "lexical", "semantic"):
        answers = engine.search_many([{"query": str(titles[i]), "k": 10, "mode": mode} for i in sample])
        hits = sum(str(engine.model.item_ids[i]) in {it["item_id"] for it in a["items"]}
                   for i, a in zip(sample, answers, strict=True))
        metrics[f"self_retrieval@10.{mode}"] = round(hits / max(len(sample), 1), 4)
    return metrics


def ann_recall(dense: Any, queries: np.ndarray, k: int = 10) -> float:
    """recall@k of the dense index's answers against exact search, over ``queries``."""
    found = 0
    for query in queries:
        exact = set(dense.exact(query, k)[0].tolist())
        found += len(exact & set(dense.search(query, k)[0].tolist()))
    return found / max(len(queries) * k, 1)
