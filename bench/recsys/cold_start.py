"""Content-based cold start on MovieLens: ``recommend/hybrid`` vs a system without content.

    .venv/bin/python bench/recsys/cold_start.py [folder] [--cold-fraction 0.15] [--no-tags]

15% of the rated movies are held out entirely (all their ratings); every rating is an interaction
(binary). Item text = "title. genres. tags" (tags.csv, the 20 most used per movie, when present).
Protocol and metric definitions: ``limelight/recsys/cold_start.py``. See README.md.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small"
BASES = (("ease", {}), ("als", {}))


def _tags(folder: Path) -> dict[str, str]:
    path = folder / "tags.csv"
    if not path.is_file():
        return {}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            counts[row["movieId"]][row["tag"].strip().lower()] += 1
    return {movie: ", ".join(t for t, _ in c.most_common(20)) for movie, c in counts.items()}


def main() -> None:
    import pyarrow as pa

    from limelight.recsys.algorithms.hybrid import HybridParams
    from limelight.recsys.cold_start import evaluate_cold_start
    from limelight.recsys.content import embed_texts, item_texts
    from limelight.recsys.movielens import load_movielens

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--cold-fraction", type=float, default=0.15)
    parser.add_argument("--no-tags", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    data = load_movielens(args.folder)
    inter = data.interactions(binary=True)
    tags = {} if args.no_tags else _tags(args.folder)
    items = [{**item, "tags": tags.get(item["item_id"])} for item in data.items]
    started = time.perf_counter()
    embeddings = embed_texts(item_texts(inter.item_ids, pa.Table.from_pylist(items)))
    print(f"{inter.n_users} users, {inter.n_items} items, {inter.matrix.nnz} ratings; "
          f"embedded in {time.perf_counter() - started:.0f} s; tags for {len(tags)} movies")
    print(f"{'base':6} {'cold NDCG@10':>13} {'no content':>11} {'cold R@10':>10} {'no content':>11} "
          f"{'warm NDCG@10':>13} {'base CF':>8} {'all NDCG@10':>12} {'base CF':>8} {'users':>6} {'items':>6} {'s':>5}")
    for base, params in BASES:
        started = time.perf_counter()
        r = evaluate_cold_start(inter.matrix, embeddings, HybridParams(base=base, base_params=params), k=10,
                                cold_fraction=args.cold_fraction, test_fraction=0.25, seed=args.seed)
        print(f"{base:6} {r.cold_ndcg:13.4f} {r.cold_ndcg_baseline:11.4f} {r.cold_recall:10.4f} "
              f"{r.cold_recall_baseline:11.4f} {r.warm_ndcg:13.4f} {r.warm_ndcg_base:8.4f} {r.overall_ndcg:12.4f} "
              f"{r.overall_ndcg_base:8.4f} {r.cold_users:6d} {r.cold_items:6d} {time.perf_counter() - started:5.0f}")


if __name__ == "__main__":
    main()
