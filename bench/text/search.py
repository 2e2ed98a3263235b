"""Catalog search benchmark: build ``search/catalog`` on ~10k movies in-process, serve it from a real
``limelight serve`` on 127.0.0.1, and measure ``:search`` latency and HNSW recall against exact search.

    .venv/bin/python bench/text/search.py [--items 10000] [--requests 300]

Items: the 1,000 IMDB movies with plots (../shared/data/movie-metadata, not in the repo)
replicated with perturbed titles, years and plots up to ``--items``. The model is built through the
recipe's own ``run`` (a local job context), uploaded as version 1 (exact index) and, with
``ann_threshold`` lowered so HNSW serves it, as version 2. Latency is client-side over HTTP,
``--requests`` queries per configuration at 1 and 8 concurrent clients. Targets: p99 <= 20 ms at
10k items; recall@10 >= 0.95.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(os.environ.get("LIMELIGHT_BENCH_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")) \
    / "movie-metadata" / "IMDB-Movie-Data.csv"
SUFFIXES = ["", " II", " Returns", ": Origins", " (Director's Cut)", " Reloaded", ": The Legacy", " Redux",
            " Forever", ": Part Three"]
QUERIES = ["space adventure with aliens", "a detective hunts a serial killer", "romantic comedy in new york",
           "superheroes save the world", "a haunted house", "heist thriller", "war drama", "coming of age story",
           "animated family film about animals", "a boxer fights for a title", "time travel", "zombie apocalypse"]


def movies(n_items: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with DATA.open(newline="") as f:
        base = list(csv.DictReader(f))
    out = []
    for n in range(n_items):
        row, copy = base[n % len(base)], n // len(base)
        words = row["Description"].split()
        if copy:
            words = [w for w in words if rng.random() > 0.1]  # drop a tenth of the plot's words
        out.append({"item_id": f"i{n:05d}", "title": row["Title"] + SUFFIXES[copy % len(SUFFIXES)],
                    "genres": row["Genre"].split(","), "year": int(row["Year"]) + copy,
                    "description": " ".join(words), "tags": row["Director"]})
    return out


class LocalJob:
    """Enough of a job context to run a recipe in this process."""

    def __init__(self, workdir: Path, dataset: Path) -> None:
        self.job_id, self.org, self.workdir, self._dataset = "bench", "bench", workdir, dataset

    def dataset_path(self, role: str = "main") -> Path:
        return self._dataset

    def has_dataset(self, role: str) -> bool:
        return role == "main"

    def output_path(self, suffix: str) -> Path:
        return self.workdir / f"model{suffix}"

    def progress(self, percent: float, message: str = "") -> None:
        print(f"  {percent:5.1f}% {message}", file=sys.stderr)

    def log(self, message: str, level: str = "info") -> None:
        print(f"  {message}", file=sys.stderr)

    def check_cancelled(self) -> None:
        return None

    def live_events(self) -> Any:
        raise NotImplementedError


def build(workdir: Path, n_items: int) -> tuple[Path, dict[str, Any], float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from limelight.recipes.search_catalog import CatalogSearchRecipe, SearchParams

    rows = movies(n_items)
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    pq.write_table(table, workdir / "items.parquet")
    started = time.perf_counter()
    result = CatalogSearchRecipe().run(LocalJob(workdir, workdir / "items.parquet"), SearchParams())
    return workdir / "model.npz", result.metrics, time.perf_counter() - started


def with_ann(artifact: Path, threshold: int) -> Path:
    """The same artifact with ``ann_threshold`` lowered, so the runtime serves it through HNSW."""
    with np.load(artifact, allow_pickle=False) as loaded:
        arrays = {k: loaded[k] for k in loaded.files}
    meta = json.loads(str(arrays["metadata"]))
    meta["params"]["ann_threshold"] = threshold
    arrays["metadata"] = np.array(json.dumps(meta))
    target = artifact.with_name("model-ann.npz")
    with target.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return target


def ann_recall(artifact: Path, cache: Path, queries: list[str]) -> dict[int, tuple[float, float]]:
    """recall@10 of HNSW vs exact per ef_search, on text queries; and HNSW build seconds."""
    from limelight.search.artifact import load_model
    from limelight.search.building import ann_recall as recall
    from limelight.search.building import encode_with, minilm_encoder
    from limelight.search.dense import DenseIndex

    model = load_model(artifact)
    encoder = minilm_encoder(cache)
    vectors = encode_with(encoder)(queries)
    encoder.close()
    out = {}
    for ef in (16, 64, 128):
        started = time.perf_counter()
        index = DenseIndex(model.embeddings, ann=True, ef_search=ef, threads=2)
        out[ef] = (recall(index, vectors), time.perf_counter() - started)
    return out


def latency(server: Any, version: int, queries: list[dict[str, Any]], clients: int) -> dict[str, float]:
    timings: list[float] = []
    errors = [0]

    def run(part: list[dict[str, Any]]) -> None:
        with server.client() as client:
            for body in part:
                started = time.perf_counter()
                response = client.post(f"/v1/models/bench/movies:search?version={version}", json=body)
                timings.append(time.perf_counter() - started)
                errors[0] += response.status_code != 200
    with server.client() as client:  # warm: load the version, its encoder and caches
        for body in queries[:20]:
            client.post(f"/v1/models/bench/movies:search?version={version}", json=body).raise_for_status()
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(queries[n::clients],)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(timings)
    return {"p50_ms": 1000 * statistics.median(ordered), "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
            "rps": len(ordered) / elapsed, "errors": errors[0]}


def requests(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    titles = [r["title"] for r in movies(1000)]
    out = []
    for i in range(n):
        query = rng.choice(QUERIES) if i % 2 else rng.choice(titles)
        body: dict[str, Any] = {"query": query, "k": 10, "mode": ("hybrid", "lexical", "semantic", "hybrid")[i % 4]}
        if i % 5 == 0:
            body["filters"] = {"genres": ["Drama"], "year": {"min": 2010}}
        out.append(body)
    return out


def upload(server: Any, artifact: Path) -> None:
    with server.client() as client, artifact.open("rb") as f:
        response = client.post("/api/v1/orgs/bench/models/movies/versions", files={"file": ("m.npz", f)},
                               data={"meta": json.dumps({"runtime": "catalog-search", "format": "npz"})})
        response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "recsys"))
    from serving import Server  # type: ignore[import-not-found]  # bench/recsys/serving.py

    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        workdir = Path(tmp)
        artifact, metrics, build_s = build(workdir, args.items)
        print(f"built {args.items} items in {build_s:.1f} s; artifact {artifact.stat().st_size / 1e6:.1f} MB")
        print("metrics:", json.dumps(metrics))
        recalls = ann_recall(artifact, workdir / "encoder-cache", [r["query"] for r in requests(200)])
        server = Server(workdir / "home")
        try:
            with server.client() as client:
                client.post("/api/v1/orgs/bench/models", json={"name": "movies", "task": "search"}).raise_for_status()
            upload(server, artifact)
            upload(server, with_ann(artifact, 1000))
            bodies = requests(args.requests)
            rows = [(index, c, latency(server, v, bodies, c)) for v, index in ((1, "exact"), (2, "hnsw"))
                    for c in (1, 8)]
        finally:
            server.stop()
    print("\n| index | clients | requests | p50 ms | p99 ms | req/s | errors |\n|---|---|---|---|---|---|---|")
    for index, clients, r in rows:
        print(f"| {index} | {clients} | {args.requests} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['rps']:.0f} "
              f"| {r['errors']} |")
    print("\n| ef_search | recall@10 vs exact (200 text queries) | HNSW build s |\n|---|---|---|")
    for ef, (recall, seconds) in recalls.items():
        print(f"| {ef} | {recall:.3f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
