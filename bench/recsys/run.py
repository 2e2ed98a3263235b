"""Recommendation benchmark on MovieLens: every recipe, ``auto``, and implicit's ALS called directly.

Protocol: every rating is an interaction (weight 1, binary relevance); per-user random 75/25 holdout
with seed 42; each model ranks all items the user has no training interaction with; NDCG@10 and
Recall@10 averaged over test users. ``auto`` tunes on validation splits carved from the 75% only.

    .venv/bin/python bench/recsys/run.py [MOVIELENS_FOLDER] [--repeats 3] [--skip-auto]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from limelight.recsys.algorithms import ALGORITHMS, ALSParams, create
from limelight.recsys.auto import auto_recommend
from limelight.recsys.evaluation import RankingMetrics, evaluate, holdout_split
from limelight.recsys.movielens import load_movielens
from limelight.recsys.threads import fit_threads, single_threaded_blas
from limelight.recsys.trained import TrainedRecommender

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small"
TARGET_NDCG = 0.415  # on ml-latest-small (issue 14); on other data only "at least the best single recipe"
TARGET_ALS_RATIO = 1.3


class FactorScores:
    """Just enough of the Recommender surface for ``evaluate``: scores from raw factor matrices."""

    def __init__(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        self.user_factors, self.item_factors = user_factors, item_factors

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


def implicit_als(train: sp.csr_matrix, p: ALSParams) -> tuple[FactorScores, float]:
    """implicit's own BM25 weighting + CPU ALS with the same hyper-parameters, timed end to end."""
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import bm25_weight

    start = time.perf_counter()
    weighted = bm25_weight(train, K1=p.bm25_k1, B=p.bm25_b).tocsr().astype(np.float32)
    with single_threaded_blas():
        model = AlternatingLeastSquares(
            factors=p.factors,
            regularization=p.regularization,
            alpha=p.alpha,
            iterations=p.iterations,
            random_state=p.random_state,
            num_threads=fit_threads(p.num_threads),
        )
        model.fit(weighted, show_progress=False)
    return FactorScores(model.user_factors, model.item_factors), time.perf_counter() - start


def timed_fit(name: str, train: sp.csr_matrix, params: dict[str, Any] | None = None) -> tuple[Any, float]:
    model = create(name, params)
    start = time.perf_counter()
    model.fit(train)
    return model, time.perf_counter() - start


def serving_latency_ms(model: Any, inter: Any, users: int = 256, batch: int = 32) -> tuple[float, float]:
    """Mean time per request of ``recommend`` (one by one) and ``recommend_batch`` (32 at a time),
    known users, k=10, BLAS on one thread as a serving process should run."""
    trained = TrainedRecommender.from_interactions(model, inter)
    ids = [str(u) for u in inter.user_ids[:users]]
    requests = [{"user_id": u, "k": 10, "exclude_seen": True, "filters": {}} for u in ids]
    with single_threaded_blas():
        trained.recommend(ids[0], 10)
        start = time.perf_counter()
        for user_id in ids:
            trained.recommend(user_id, 10)
        single = (time.perf_counter() - start) / len(ids) * 1e3
        start = time.perf_counter()
        for lo in range(0, len(requests), batch):
            trained.recommend_batch(requests[lo : lo + batch])
        batched = (time.perf_counter() - start) / len(ids) * 1e3
    return single, batched


def row(name: str, m: RankingMetrics, seconds: float, note: str = "") -> str:
    return f"| {name:<22} | {m.ndcg:7.4f} | {m.recall:9.4f} | {m.map:6.4f} | {m.coverage:8.3f} | {m.popularity_bias:8.3f} | {seconds:8.2f} | {note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "folder", nargs="?", default=str(DEFAULT_DATA), help="a MovieLens folder (100k, 1m or latest)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="ALS timing repeats (median)")
    parser.add_argument("--skip-auto", action="store_true")
    args = parser.parse_args(argv)

    ml = load_movielens(args.folder)
    inter = ml.interactions(binary=True)
    split = holdout_split(inter.matrix, test_fraction=0.25, seed=42)
    train, test = split.train, split.test
    print(
        f"data: {args.folder} ({ml.layout}): {inter.n_users} users, {inter.n_items} items, {inter.matrix.nnz} ratings"
    )
    print(
        f"split: per-user random 75/25, seed 42 -> train {train.nnz}, test {test.nnz}; cores: {fit_threads()}\n"
    )
    print("| model                  | NDCG@10 | Recall@10 | MAP@10 | coverage | pop bias | train s  | notes")
    print("|------------------------|---------|-----------|--------|----------|----------|----------|------")
    results: dict[str, float] = {}
    fitted: dict[str, Any] = {}
    for name in ALGORITHMS:
        model, seconds = timed_fit(name, train)
        metrics = evaluate(model, train, test)
        results[name], fitted[name] = metrics.ndcg, model
        print(row(name, metrics, seconds, "defaults"), flush=True)

    p = ALSParams()
    ours, theirs = [], []
    for _ in range(args.repeats):  # interleaved, so background load hits both alike
        ours.append(timed_fit("als", train)[1])
        reference, seconds = implicit_als(train, p)
        theirs.append(seconds)
    ref_metrics = evaluate(reference, train, test)  # type: ignore[arg-type]
    ratio = statistics.median(ours) / statistics.median(theirs)
    note = f"f={p.factors} reg={p.regularization} it={p.iterations} bm25({p.bm25_k1:g},{p.bm25_b:g})"
    print(row("implicit ALS (direct)", ref_metrics, statistics.median(theirs), note), flush=True)

    auto_ok = True
    if not args.skip_auto:
        start = time.perf_counter()
        result = auto_recommend(train)
        total = time.perf_counter() - start
        auto_metrics = evaluate(result.model, train, test)
        print(row("auto", auto_metrics, total, f"winner {result.winner} {result.params}"))
        best_single = max(results.values())
        target = TARGET_NDCG if Path(args.folder).resolve() == DEFAULT_DATA.resolve() else best_single
        auto_ok = auto_metrics.ndcg >= best_single - 1e-9 and auto_metrics.ndcg >= target
        print("\nauto's validation table (tuned on splits of the 75% train part only):")
        for r in result.table:
            print(
                f"  {r.recipe:<10} ndcg@10={r.ndcg:.4f} recall@10={r.recall:.4f} trials={r.trials} fit={r.train_seconds:.2f}s params={r.params}"
            )
        print(
            f"\nauto NDCG@10 {auto_metrics.ndcg:.4f} vs best single recipe {best_single:.4f} and target {target:.4f}: {'PASS' if auto_ok else 'FAIL'}"
        )

    print(
        f"ALS train time: limelight {statistics.median(ours):.2f}s / implicit {statistics.median(theirs):.2f}s = {ratio:.2f}x (target <= {TARGET_ALS_RATIO}x): {'PASS' if ratio <= TARGET_ALS_RATIO else 'FAIL'}"
    )
    print(
        "\nserving, ms per request (known users, k=10, BLAS 1 thread): recommend() one by one | recommend_batch(32)"
    )
    train_inter = replace(inter, matrix=train, timestamps=None)
    for name, model in fitted.items():
        single, batched = serving_latency_ms(model, train_inter)
        print(f"  {name:<10} {single:7.3f} | {batched:7.3f}")
    return 0 if auto_ok and ratio <= TARGET_ALS_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
