"""Fine-tune the bundled MiniLM on SST-2 within a time budget; print dev accuracy against time.

The dev split (872 sentences) is the validation split: it picks the best checkpoint and drives early
stopping, so its final figure is slightly optimistic. The labelled SST test split (1,821 sentences)
is never seen during training and is scored once, by the exported ONNX model, as the held-out check.

    nice -n 5 .venv/bin/python bench/text/finetune_sst2.py --minutes 20 --max-train 30000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from limelight.text.finetune import FinetuneConfig, finetune
from limelight.text.onnx_scorer import OnnxTextScorer

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sentiment" / "sst2"


def read_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    """``label<TAB>text`` rows after a header line; CRLF or LF line ends."""
    texts, labels = [], []
    with path.open(encoding="utf-8", newline=None) as handle:
        next(handle)
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                texts.append(text)
                labels.append(int(label))
    return texts, np.array(labels, dtype=np.int64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with train.tsv, dev.tsv, test.tsv")
    parser.add_argument("--minutes", type=float, default=20.0, help="training time budget")
    parser.add_argument("--max-train", type=int, default=None, help="stratified subsample of train.tsv")
    parser.add_argument("--max-length", type=int, default=FinetuneConfig.max_length, help="tokens per text")
    parser.add_argument("--epochs", type=int, default=FinetuneConfig.epochs)
    parser.add_argument("--batch-size", type=int, default=FinetuneConfig.batch_size)
    parser.add_argument("--lr", type=float, default=FinetuneConfig.learning_rate)
    parser.add_argument("--eval-every", type=int, default=FinetuneConfig.eval_every_steps)
    parser.add_argument("--patience", type=int, default=FinetuneConfig.patience)
    parser.add_argument("--threads", type=int, default=FinetuneConfig.threads)
    parser.add_argument("--target", type=float, default=0.87, help="dev accuracy to reach (exit 1 if missed)")
    args = parser.parse_args()
    if not (args.data / "train.tsv").exists():
        print(f"SST-2 not found in {args.data}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    train_texts, train_y = read_tsv(args.data / "train.tsv")
    dev_texts, dev_y = read_tsv(args.data / "dev.tsv")
    config = FinetuneConfig(
        max_length=args.max_length, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        patience=args.patience, time_budget_s=args.minutes * 60, eval_every_steps=args.eval_every,
        threads=args.threads, max_train_examples=args.max_train,
    )
    print(f"train {len(train_texts)} (using {args.max_train or 'all'}), dev {len(dev_texts)}; {config}")
    started = time.monotonic()
    out = finetune(train_texts, train_y, dev_texts, dev_y, 2, config, _print_point, lambda: None)
    total_s = time.monotonic() - started
    print_table(out.history)
    return report(out, dev_texts, dev_y, args, total_s)


def _print_point(point: dict) -> None:
    if point["valid_metric"] is not None:
        print(f"  step {point['step']:>6}  {point['elapsed_s'] / 60:6.2f} min  dev {point['valid_metric']:.4f}",
              flush=True)


def print_table(history: list[dict]) -> None:
    print("\n| epoch | step | minutes | train loss | dev accuracy |\n|---:|---:|---:|---:|---:|")
    loss = None
    for point in history:
        loss = point["loss"] if point["loss"] is not None else loss
        if point["valid_metric"] is not None:
            loss_text = f"{loss:.4f}" if loss is not None else "-"
            print(f"| {point['epoch']} | {point['step']} | {point['elapsed_s'] / 60:.2f} | {loss_text} "
                  f"| {point['valid_metric']:.4f} |")


def report(out: object, dev_texts: list[str], dev_y: np.ndarray, args: argparse.Namespace, total_s: float) -> int:
    scorer = OnnxTextScorer.from_bytes(out.onnx_bytes, out.tokenizer_json, out.max_length, args.threads)
    started = time.monotonic()
    dev_acc = float((scorer.logits(dev_texts).argmax(1) == dev_y).mean())
    per_text_ms = 1000 * (time.monotonic() - started) / len(dev_texts)
    truncated = sum(scorer.truncated(dev_texts))
    print(f"\nbest dev accuracy during training {out.best_metric:.4f}; "
          f"exported ONNX model: dev accuracy {dev_acc:.4f} ({truncated} dev texts truncated)")
    if (args.data / "test.tsv").exists():
        test_texts, test_y = read_tsv(args.data / "test.tsv")
        test_acc = float((scorer.logits(test_texts).argmax(1) == test_y).mean())
        print(f"held-out SST test accuracy (exported model) {test_acc:.4f} on {len(test_texts)} sentences")
    print(f"fine-tune + export {total_s / 60:.2f} min; ONNX {len(out.onnx_bytes) / 1e6:.1f} MB; "
          f"scoring {per_text_ms:.2f} ms/text in batches of 64 ({args.threads} threads)")
    return 0 if dev_acc >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
