"""Image classification accuracy on hymenoptera (ants vs bees; 245 train / 153 val, the official
split of the PyTorch transfer-learning tutorial), through the real path: the folders are zipped,
read by the confined images reader as an upload would be, and ``classify-image/transfer`` runs as
a job would, within its time budget. Both stages are measured in the same run: the frozen
EfficientNet-Lite0 features with a logistic head (stage 1, the baseline) and the fine-tuned model.
Target: validation accuracy >= 0.95 within 10 minutes on this 2-core machine. The data stays in
../shared/data; nothing here is in the test suite.

Usage (from the repository root):
  PYTHONPATH=src .venv/bin/python bench/vision/accuracy.py [--budget-s 600]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.support.local_context

DATA = Path(os.environ.get("LIMELIGHT_BENCH_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
HYMENOPTERA = DATA / "images" / "hymenoptera"


def _zip(root: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                archive.write(path, path.relative_to(root.parent).as_posix())
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-s", type=int, default=600)
    parser.add_argument("--unfreeze-blocks", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=12)
    args = parser.parse_args()
    if not (HYMENOPTERA / "train").is_dir():
        print(f"skipped: {HYMENOPTERA} is absent")
        return 0
    from limelight.datasets.ingest.images import ImageArchiveOptions, ingest_images
    from limelight.recipes.classify_image import ImageTransferRecipe
    from tests.support.local_context import LocalJobContext

    with tempfile.TemporaryDirectory(prefix="bench-vision-") as tmp:
        work = Path(tmp)
        (work / "hymenoptera.zip").write_bytes(_zip(HYMENOPTERA))
        started = time.perf_counter()
        stored = ingest_images(work / "hymenoptera.zip", filename="hymenoptera.zip", dest=work / "images.parquet",
                               options=ImageArchiveOptions())
        read_s = time.perf_counter() - started
        ctx = LocalJobContext(work, {"main": work / "images.parquet"})
        recipe = ImageTransferRecipe()
        started = time.perf_counter()
        result = recipe.run(ctx, recipe.Params.model_validate({"time_budget_s": args.budget_s,
                                                               "unfreeze_blocks": args.unfreeze_blocks,
                                                               "max_epochs": args.max_epochs}))
        train_s = time.perf_counter() - started
    m = result.metrics
    print(f"hymenoptera: {stored.rows} pictures read and checked in {read_s:.1f} s; splits {stored.profile['splits']}")
    print()
    print("| model | validation accuracy | macro-F1 | seconds |")
    print("|---|---|---|---|")
    print(f"| frozen EfficientNet-Lite0 features + logistic head (stage 1) | {m['head_accuracy']:.4f} | | |")
    tuned = m["fine_tuned_accuracy"]
    print(f"| + last {args.unfreeze_blocks} blocks fine-tuned, {m['fine_tune_epochs']} epochs (stage 2) | "
          f"{'n/a' if tuned is None else f'{tuned:.4f}'} | | |")
    print(f"| kept: {m['stage']} (exported to ONNX, max diff {m['onnx_max_difference']:.1e}) | {m['accuracy']:.4f} | "
          f"{m['macro_f1']:.4f} | {train_s:.0f} (budget {args.budget_s}) |")
    print()
    print(f"target >= 0.95 within 600 s: {'met' if m['accuracy'] >= 0.95 and train_s <= 600 + 30 else 'NOT met'}")
    print("per epoch:", [(round(p.get("loss", 0), 4), p["valid_accuracy"]) for p in ctx.metrics])
    return 0


if __name__ == "__main__":
    sys.exit(main())
