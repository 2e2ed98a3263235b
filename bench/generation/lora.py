"""LoRA fine-tuning on movie plots: held-out perplexity before and after, in fp32 and in llama.cpp.

Trains ``generate/lora``'s pipeline (``limelight.generation.lora.fine_tune``) on the plots of
IMDB-Movie-Data.csv (shared/data/movie-metadata), holds out a share of whole plots, and measures
their perplexity with the base GGUF and with the written GGUF, both in llama-cpp-python, besides
the fp32 figures training saw. Target: a drop of at least 20% within a 15-minute budget.

    nice python bench/generation/lora.py [--minutes 15] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def plots(data_dir: Path) -> list[str]:
    with open(data_dir / "movie-metadata" / "IMDB-Movie-Data.csv", encoding="utf-8", newline="") as f:
        return [row["Description"].strip() for row in csv.DictReader(f) if row["Description"].strip()]


def llama_perplexity(gguf_path: Path, texts: list[str], threads: int = 2) -> float:
    """exp(mean next-token loss) over each text on its own (bos + text), scored by llama.cpp."""
    from llama_cpp import Llama

    model = Llama(str(gguf_path), n_ctx=512, n_threads=threads, logits_all=True, verbose=False)
    total, count = 0.0, 0
    for text in texts:
        tokens = model.tokenize(text.encode(), add_bos=False)[:500] + [model.token_eos()]
        model.reset()
        model.eval(tokens)
        logits = np.asarray(model.scores[: len(tokens) - 1], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total -= float(log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum())
        count += len(tokens) - 1
    return math.exp(total / count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--block-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared, busy machine)")
    args = parser.parse_args()
    from limelight.generation.gguf_file import bundled_model_path
    from limelight.generation.lora.corpus import split_texts
    from limelight.generation.lora.fine_tune import fine_tune
    from limelight.generation.lora.training import Hooks, TrainSettings

    texts, share, seed = plots(args.data), 0.1, 42
    settings = TrainSettings(rank=16, alpha=32, include_mlp=True, learning_rate=1e-3, batch_size=2,
                             max_steps=2000, eval_every_steps=10, patience=4,
                             time_budget_s=args.minutes * 60 - 300, seed=seed)  # load, evaluations, export fit too
    hooks = Hooks(on_eval=lambda step, ppl: print(f"  step {step:5d}  held-out perplexity {ppl:.3f}", flush=True))
    base = bundled_model_path()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tuned.gguf"
        started = time.monotonic()
        result = fine_tune(base, texts, out, settings, block_size=args.block_size, validation_share=share,
                           hooks=hooks, threads=args.threads)
        wall_s = time.monotonic() - started
        _, held = split_texts(texts, share, seed)
        before_cpp, after_cpp = llama_perplexity(base, held, args.threads), llama_perplexity(out, held, args.threads)
    rows = [("fp32 (training's view, packed blocks)", result.perplexity_before, result.perplexity_after),
            ("llama.cpp (base Q4_1 vs written GGUF, per plot)", before_cpp, after_cpp)]
    print(f"\n{len(texts)} plots: {result.train_blocks} training blocks of {args.block_size} tokens, "
          f"{len(held)} held-out plots; {result.training['steps']} steps, stopped by "
          f"{result.training['stopped_because']}; wall {wall_s / 60:.1f} min (budget {args.minutes} min)")
    print(f"{'measure':50s} {'before':>9s} {'after':>9s} {'drop':>7s}")
    for name, before, after in rows:
        print(f"{name:50s} {before:9.3f} {after:9.3f} {1 - after / before:7.1%}")
    target = 1 - after_cpp / before_cpp >= 0.20
    print(f"target drop >= 20% (llama.cpp): {'met' if target else 'NOT met'}")
    sys.exit(0)


if __name__ == "__main__":
    main()
