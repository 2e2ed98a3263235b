"""Accuracy of the ``classify-text/*`` recipes on public sentiment data, through the real code path:
each recipe runs as a job would (its own validation split, calibration, one ``.npz`` artifact) and
the artifact is then loaded by the ``text-classifier`` runtime that serving uses, which scores the
held-out texts. Nothing here is in the test suite; the data stays in ../shared/data.

  SST-2:        train on train.tsv (or --sst2-train rows of it), report accuracy on dev.tsv (872)
  rt-polarity:  10-fold cross-validation as the papers do (Pang & Lee 2005; Kim 2014), mean accuracy

Usage (from the repository root):
  PYTHONPATH=src .venv/bin/python bench/text/accuracy.py --recipes tfidf,embeddings --datasets sst2,rt
  PYTHONPATH=src .venv/bin/python bench/text/accuracy.py --recipes finetune --datasets sst2 --finetune-minutes 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(os.environ.get("LIMELIGHT_BENCH_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")) / "sentiment"
TARGETS = {("sst2", "tfidf"): 0.80, ("sst2", "embeddings"): 0.82, ("sst2", "finetune"): 0.87,
           ("rt", "tfidf"): 0.77, ("rt", "best"): 0.80}


@dataclass
class BenchContext:
    """The JobContext a recipe sees, backed by a scratch folder; logs go to stderr."""

    workdir: Path
    train_file: Path
    job_id: str = "bench"
    org: str = "bench"
    points: list[dict[str, Any]] = field(default_factory=list)

    def dataset_path(self, role: str = "main") -> Path:
        return self.train_file

    def has_dataset(self, role: str) -> bool:
        return role == "main"

    def output_path(self, suffix: str) -> Path:
        return self.workdir / f"model{suffix}"

    def progress(self, percent: float, message: str = "") -> None:
        pass

    def log(self, message: str, level: str = "info") -> None:
        print(f"    [{level}] {message}", file=sys.stderr)

    def metric(self, values: dict[str, float], step: int, epoch: int | None = None) -> None:
        self.points.append({"step": step, "epoch": epoch, **values})

    def check_cancelled(self) -> None:
        pass

    def live_events(self) -> Any:
        from limelight.recipes.base import LiveEvents

        return LiveEvents(rows=[], max_seq=0)


def read_tsv(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        label, _, text = line.rstrip("\r").partition("\t")
        if text.strip():
            texts.append(text.strip())
            labels.append(label.strip())
    return texts, labels


def write_parquet(path: Path, texts: list[str], labels: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": texts, "label": labels}), path)


def train_and_score(recipe_name: str, params: dict[str, Any], train: tuple[list[str], list[str]],
                    test: tuple[list[str], list[str]], cache_dir: Path) -> dict[str, Any]:
    from limelight.recipes import get_recipe
    from limelight.runtimes.base import LoadContext, load_runtime

    recipe = get_recipe(recipe_name)
    with tempfile.TemporaryDirectory() as scratch:
        ctx = BenchContext(Path(scratch), Path(scratch) / "train.parquet")
        write_parquet(ctx.train_file, *train)
        started = time.perf_counter()
        result = recipe.run(ctx, recipe.Params.model_validate(params))  # type: ignore[arg-type]
        train_s = time.perf_counter() - started
        runtime = load_runtime("text-classifier", ctx.output_path(".npz"), {}, LoadContext(cache_dir=cache_dir))
        try:
            started = time.perf_counter()
            predicted = [p["label"] for batch in _batches(test[0], 64) for p in runtime.predict_batch(batch)]
            score_s = time.perf_counter() - started
        finally:
            runtime.close()
    accuracy = float(np.mean([p == y for p, y in zip(predicted, test[1], strict=True)]))
    return {"accuracy": accuracy, "train_s": train_s, "score_s": score_s, "valid": result.metrics.get("accuracy"),
            "summary": result.summary, "curve": ctx.points}


def _batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def recipe_params(name: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if name == "finetune":
        return "classify-text/finetune", {"time_budget_minutes": args.finetune_minutes, "epochs": 1,
                                          "max_length": args.max_length, "validation_fraction": 0.05,
                                          "max_train_examples": args.finetune_train}
    if name == "auto":
        return "classify-text/auto", {"time_budget_minutes": args.auto_minutes, "validation_fraction": 0.05}
    return f"classify-text/{name}", {"validation_fraction": 0.1}


def sst2(recipes: list[str], args: argparse.Namespace, cache_dir: Path) -> list[dict[str, Any]]:
    train = read_tsv(DATA / "sst2" / "train.tsv")
    if args.sst2_train and args.sst2_train < len(train[0]):
        order = random.Random(0).sample(range(len(train[0])), args.sst2_train)
        train = ([train[0][i] for i in order], [train[1][i] for i in order])
    dev = read_tsv(DATA / "sst2" / "dev.tsv")
    rows = []
    for name in recipes:
        recipe, params = recipe_params(name, args)
        print(f"SST-2 · {recipe} on {len(train[0])} training texts…", file=sys.stderr)
        out = train_and_score(recipe, params, train, dev, cache_dir)
        rows.append({"data": "sst2", "recipe": name, **out})
    return rows


def rt_polarity(recipes: list[str], args: argparse.Namespace, cache_dir: Path) -> list[dict[str, Any]]:
    texts, labels = read_tsv(DATA / "rt-polarity" / "rt-polarity.utf8.tsv")
    order = np.random.default_rng(0).permutation(len(texts))
    folds = np.array_split(order, args.folds)
    rows = []
    for name in recipes:
        recipe, params = recipe_params(name, args)
        scores, train_s = [], 0.0
        for i, fold in enumerate(folds[: args.max_folds or args.folds]):
            held = set(fold.tolist())
            train = ([texts[j] for j in order if j not in held], [labels[j] for j in order if j not in held])
            test = ([texts[j] for j in fold], [labels[j] for j in fold])
            print(f"rt-polarity · {recipe} fold {i + 1}/{args.folds}…", file=sys.stderr)
            out = train_and_score(recipe, params, train, test, cache_dir)
            scores.append(out["accuracy"])
            train_s += out["train_s"]
        rows.append({"data": "rt", "recipe": name, "accuracy": float(np.mean(scores)), "folds": len(scores),
                     "fold_std": float(np.std(scores)), "train_s": train_s})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| data | recipe | accuracy | target | train s | notes |", "|---|---|---:|---:|---:|---|"]
    best_rt = max((r["accuracy"] for r in rows if r["data"] == "rt"), default=None)
    for r in rows:
        target = TARGETS.get((r["data"], r["recipe"]))
        notes = f"{r['folds']}-fold mean ± {r['fold_std']:.3f}" if "folds" in r else "dev.tsv (872)"
        if r["data"] == "rt" and r["accuracy"] == best_rt:
            notes += f"; best (target {TARGETS[('rt', 'best')]:.2f})"
        lines.append(f"| {r['data']} | {r['recipe']} | {r['accuracy']:.4f} | {f'{target:.2f}' if target else '—'} | "
                     f"{r['train_s']:.0f} | {notes} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="tfidf,embeddings")
    parser.add_argument("--datasets", default="sst2,rt")
    parser.add_argument("--sst2-train", type=int, default=0, help="subsample SST-2 train (0: all 67,349)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--max-folds", type=int, default=0, help="run only the first N folds (0: all)")
    parser.add_argument("--finetune-minutes", type=float, default=20.0)
    parser.add_argument("--finetune-train", type=int, default=40_000, help="fine-tuning subsample (one epoch)")
    parser.add_argument("--auto-minutes", type=float, default=15.0)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the rows (with curves) here")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"no benchmark data at {DATA}")
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    cache_dir = Path(tempfile.mkdtemp(prefix="limelight-bench-text-"))
    rows: list[dict[str, Any]] = []
    if "sst2" in args.datasets:
        rows += sst2(recipes, args, cache_dir)
    if "rt" in args.datasets:
        rows += rt_polarity(recipes, args, cache_dir)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
