"""``:classify`` throughput of a fine-tuned (ONNX) text classifier against onnxruntime in-process.

1. The model: ``--artifact`` (a ``text-classifier`` .npz of kind ``finetuned-onnx``), or one made here
   by ``classify-text/finetune`` on 2,000 SST-2 sentences for ``--train-minutes`` (throughput does not
   depend on how long it trained: the graph is the same).
2. Served: bench/serving's ``server_limelight.py w3`` (a real ``limelight serve`` on 127.0.0.1:8108,
   the artifact uploaded as version 1 through the API, sandbox validation included); wrk at
   ``--concurrency`` posts one SST-2 sentence per request to ``:classify`` for ``--duration-s``. The
   mean batch the server formed is read from its own ``limelight_batch_size`` histogram.
3. In-process, with the server stopped: the same sentences in batches of that mean size through
   (a) the ONNX scorer alone (tokenizer + onnxruntime) and (b) the runtime's ``predict_batch``
   (adds calibration and labels), each for the same duration.

Prints req/s, p50, p99 and the ratio served / in-process (target >= 0.9).

  PYTHONPATH=src .venv/bin/python bench/text/classify_serving.py [--artifact PATH] [--duration-s 15]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVING = HERE.parent / "serving"
sys.path[:0] = [str(HERE), str(SERVING)]

import limelight_run  # noqa: E402  (bench/serving)
from common import HOST, PORTS  # noqa: E402

import bench  # noqa: E402  (bench/serving)

URL = f"http://{HOST}:{PORTS['limelight']}{limelight_run.PATHS['w3']}"
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"


def sentences(limit: int = 872) -> list[str]:
    from accuracy import DATA, read_tsv

    return read_tsv(DATA / "sst2" / "dev.tsv")[0][:limit]


def make_artifact(minutes: float, out: Path) -> Path:
    from accuracy import DATA, BenchContext, read_tsv, write_parquet

    from limelight.recipes import get_recipe

    texts, labels = read_tsv(DATA / "sst2" / "train.tsv")
    recipe = get_recipe("classify-text/finetune")
    ctx = BenchContext(out.parent, out.parent / "train.parquet")
    write_parquet(ctx.train_file, texts[:2000], labels[:2000])
    params = {"time_budget_minutes": minutes, "epochs": 1, "validation_fraction": 0.1}
    recipe.run(ctx, recipe.Params.model_validate(params))  # type: ignore[arg-type]
    ctx.output_path(".npz").rename(out)
    return out


def start_server(artifact: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc, auth = limelight_run.start("w3", python=sys.executable, LIMELIGHT_BENCH_TEXT_ARTIFACT=str(artifact),
                                     LIMELIGHT_SERVER__METRICS_TOKEN=METRICS_TOKEN)
    return proc, auth


def batch_totals() -> tuple[float, float]:
    """(sum, count) of the server's limelight_batch_size histogram."""
    request = urllib.request.Request(f"http://{HOST}:{PORTS['limelight']}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = urllib.request.urlopen(request, timeout=10).read().decode()  # noqa: S310 - 127.0.0.1
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith("limelight_batch_size_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith("limelight_batch_size_count"):
            count += float(line.rsplit(" ", 1)[1])
    return total, count


def served(artifact: Path, texts: list[str], args: argparse.Namespace) -> tuple[dict[str, Any], float]:
    proc, auth = start_server(artifact)
    os.environ["WRK_AUTH"] = auth  # post.lua sends it
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bodies = Path(tmp) / "classify.jsonl"
            bodies.write_text("".join(json.dumps({"texts": [t]}) + "\n" for t in texts))
            bench.run_wrk(URL, str(bodies), 8, args.warmup_s)
            before = batch_totals()
            result = bench.run_wrk(URL, str(bodies), args.concurrency, args.duration_s)
            after = batch_totals()
    finally:
        bench.stop(proc)
    mean_batch = (after[0] - before[0]) / max(1.0, after[1] - before[1])
    return result, mean_batch


def in_process(artifact: Path, texts: list[str], batch: int, seconds: float) -> dict[str, float]:
    from limelight.runtimes.base import LoadContext, load_runtime
    from limelight.text.artifact import read_arrays
    from limelight.text.onnx_scorer import OnnxTextScorer

    metadata, members = read_arrays(artifact)
    scorer = OnnxTextScorer.from_bytes(members["onnx"].tobytes(), str(members["tokenizer"]),
                                       int(metadata["max_length"]), threads=2)
    runtime = load_runtime("text-classifier", artifact, {}, LoadContext())
    batches = [texts[i:i + batch] for i in range(0, len(texts) - batch + 1, batch)]
    try:
        return {"onnxruntime": _rate(scorer.logits, batches, seconds),
                "runtime": _rate(runtime.predict_batch, batches, seconds)}
    finally:
        runtime.close()


def _rate(call: Any, batches: list[list[str]], seconds: float) -> float:
    call(batches[0])  # warm
    done, started, i = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        done += len(call(batches[i % len(batches)]))
        i += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifact", type=Path)
    parser.add_argument("--train-minutes", type=float, default=1.0)
    parser.add_argument("--duration-s", type=int, default=15)
    parser.add_argument("--warmup-s", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    os.makedirs(bench.SCRATCH, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="limelight-classify-bench-"))
    artifact = args.artifact or make_artifact(args.train_minutes, scratch / "classifier.npz")
    texts = sentences()
    result, mean_batch = served(artifact, texts, args)
    batch = max(1, round(mean_batch))
    local = in_process(artifact, texts, batch, args.duration_s)
    print(f"\n:classify, fine-tuned MiniLM (ONNX), one SST-2 sentence per request, c={args.concurrency}, "
          f"{args.duration_s} s, {HOST}; server batches averaged {mean_batch:.1f}")
    print("| path | texts/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|")
    print(f"| served `:classify` | {result['rps']:.1f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
          f"{result['errors']} |")
    print(f"| in-process onnxruntime, batch {batch} | {local['onnxruntime']:.1f} | | | |")
    print(f"| in-process runtime.predict_batch, batch {batch} | {local['runtime']:.1f} | | | |")
    print(f"ratio served / onnxruntime: {result['rps'] / local['onnxruntime']:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
