"""Churn on MovieLens (ml-latest-small) with its real timestamps: "no rating in the next 180 days".

For each validation cutoff the ``predict-behaviour/churn`` recipe runs as a job would (snapshots at
the cutoff and at 1-3 horizons before it, LightGBM, calibration on half of the validation users),
with ratings.csv as the interactions and movies.csv as the items (genres). The metrics are those
on the other half of the validation users, for the model and for the recency-only baseline the
recipe fits in the same run. Target: model ROC AUC above the baseline's and Brier below it at
every cutoff. Nothing here is in the test suite; the data stays in ../shared/data.

Usage (from the repository root):
  PYTHONPATH=src .venv/bin/python bench/behaviour/churn.py
  PYTHONPATH=src .venv/bin/python bench/behaviour/churn.py --cutoffs 2016-01-01,2018-01-01 --horizon-days 180
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support.local_context

DATA = Path(os.environ.get("LIMELIGHT_BENCH_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
MOVIELENS = DATA / "movielens-latest-small"
DEFAULT_CUTOFFS = "2015-01-01,2016-01-01,2017-01-01,2018-01-01"


def _inputs(workdir: Path) -> dict[str, Path]:
    """ratings.csv and movies.csv as the normalised Parquet an upload of them would produce."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ratings = pacsv.read_csv(MOVIELENS / "ratings.csv")
    interactions = ratings.rename_columns(["user_id", "item_id", "rating", "timestamp"])
    interactions = interactions.set_column(0, "user_id", interactions.column("user_id").cast("string"))
    interactions = interactions.set_column(1, "item_id", interactions.column("item_id").cast("string"))
    pq.write_table(interactions, workdir / "ratings.parquet")
    import pyarrow as pa

    movies = pacsv.read_csv(MOVIELENS / "movies.csv")
    items = pa.table({"item_id": movies.column("movieId").cast("string"),
                      "genres": [g.split("|") for g in movies.column("genres").to_pylist()]})
    pq.write_table(items, workdir / "movies.parquet")
    return {"main": workdir / "ratings.parquet", "items": workdir / "movies.parquet"}


def run(cutoffs: list[str], horizon_days: int, rounds: int, extra: dict[str, Any]) -> list[dict[str, Any]]:
    from limelight.recipes import get_recipe
    from tests.support.local_context import LocalJobContext

    recipe = get_recipe("predict-behaviour/churn")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-behaviour-") as tmp:
        inputs = _inputs(Path(tmp))
        for cutoff in cutoffs:
            ctx = LocalJobContext(Path(tmp), inputs)
            started = time.perf_counter()
            result = recipe.run(ctx, recipe.Params.model_validate(
                {"cutoff": cutoff, "horizon_days": horizon_days, "num_boost_round": rounds, "include_live_events": False, **extra}))
            rows.append({"cutoff": cutoff, "seconds": time.perf_counter() - started, **result.metrics})
    return rows


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def table(rows: list[dict[str, Any]], horizon_days: int) -> str:
    lines = [f"Churn = no rating in the next {horizon_days} days (ml-latest-small); metrics on held-out validation "
             "users, model vs recency-only baseline",
             "",
             "| cutoff | users (val) | positive rate | ROC AUC model | ROC AUC recency | ratio | PR AUC model | "
             "PR AUC recency | Brier model | Brier recency | Brier ratio | target met | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        met = r["roc_auc"] > r["baseline_roc_auc"] and r["brier"] < r["baseline_brier"]
        lines.append(f"| {r['cutoff']} | {r['validation_rows']} | {_f(r['positive_rate'])} | "
                     f"{_f(r['roc_auc'])} | {_f(r['baseline_roc_auc'])} | {r.get('roc_auc_ratio', 'n/a')} | "
                     f"{_f(r['pr_auc'])} | {_f(r['baseline_pr_auc'])} | {_f(r['brier'])} | "
                     f"{_f(r['baseline_brier'])} | {r.get('brier_ratio', 'n/a')} | {'yes' if met else 'NO'} | "
                     f"{r['seconds']:.1f} |")
    return "\n".join(lines)


def _number_or_text(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cutoffs", default=DEFAULT_CUTOFFS, help="validation cutoffs, comma-separated ISO dates")
    parser.add_argument("--horizon-days", type=int, default=180)
    parser.add_argument("--rounds", type=int, default=300, help="boosting rounds (upper bound, early stopping)")
    parser.add_argument("--training-snapshots", type=int, default=3, help="training cutoffs before each cutoff")
    parser.add_argument("--snapshot-step-days", type=int, default=None, help="days between them (default: horizon)")
    parser.add_argument("--active-within-days", type=int, default=None,
                        help="only users with a rating in these many days before a cutoff (default: all)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="another recipe parameter, e.g. num_leaves=7 (repeatable)")
    args = parser.parse_args()
    if not (MOVIELENS / "ratings.csv").exists():
        print(f"skipped: {MOVIELENS / 'ratings.csv'} is absent")
        return 0
    extra = {"training_snapshots": args.training_snapshots, "snapshot_step_days": args.snapshot_step_days,
             "active_within_days": args.active_within_days}
    extra.update({name: _number_or_text(value) for name, value in (p.split("=", 1) for p in args.param)})
    rows = run(args.cutoffs.split(","), args.horizon_days, args.rounds, extra)
    print(table(rows, args.horizon_days))
    return 0


if __name__ == "__main__":
    sys.exit(main())
