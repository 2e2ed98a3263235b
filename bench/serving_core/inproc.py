"""In-process limits of limelight's serving core (no HTTP), on this box.

1. W2 (all-MiniLM-L6-v2, one ~12-word sentence per request): sentences/s for the torch and the
   ONNX engines of limelight's sentence-embedding runtime at batch 1/8/32/64, called directly
   ("direct": over the window, and "direct_p10": from the 10th-percentile call time, which
   resists a busy neighbour) and through the Batcher with as many concurrent one-sentence callers as the batch
   size ("batcher", max_wait_ms=0, greedy), with the mean batch size the batcher formed.
2. Batcher overhead per request for a trivial model (returns its inputs), in microseconds:
   inline, thread hop at concurrency 1, and thread hop at concurrency 64 (amortised by batching).
3. W1 (LogisticRegression, 20 floats) through the sklearn runtime and ModelHost: requests/s inline
   and batched at concurrency 1 and 32.

  .venv/bin/python bench/serving_core/inproc.py [--seconds 4] [--no-torch]

Prints tables; writes bench/serving_core/results/inproc.json. The box must be otherwise idle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from limelight.runtimes import LoadContext, load_runtime  # noqa: E402
from limelight.serving.batching import Batcher  # noqa: E402
from limelight.serving.host import BatchConfig, ModelHost  # noqa: E402
from limelight.verbs import VersionKey  # noqa: E402

SENTENCES = [  # the same 8 sentences as shared/bench/serving/common.py
    "The acting was superb but the plot dragged badly in the middle.",
    "I loved every minute of this charming and surprisingly funny little film.",
    "A complete waste of two hours, with wooden dialogue and lazy twists.",
    "Stunning visuals cannot save a story this thin and this predictable.",
    "The director clearly adores these characters, and so did I by the end.",
    "Not quite a masterpiece, yet the final act left me genuinely moved.",
    "Too long, too loud, and far too pleased with its own cleverness.",
    "A warm, gentle comedy that the whole family will happily enjoy together.",
]
BATCHES = [1, 8, 32, 64]
RESULTS = Path(__file__).resolve().parent / "results" / "inproc.json"


def batch_of(n: int) -> list[str]:
    return [SENTENCES[i % len(SENTENCES)] for i in range(n)]


def time_direct(fn: Callable[[], Any], n_items: int, seconds: float) -> tuple[float, float]:
    """(items/s over the window, items/s at the 10th-percentile call time). The second is what an
    uncontended box gives: it resists neighbours that take the CPU for part of the window."""
    for _ in range(3):
        fn()
    calls: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(calls) < 5:
        t0 = time.perf_counter()
        fn()
        calls.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    p10_s = sorted(calls)[len(calls) // 10]
    return n_items * len(calls) / elapsed, n_items / p10_s


async def closed_loop(call: Callable[[int], Awaitable[Any]], concurrency: int, seconds: float) -> float:
    """Requests/s with ``concurrency`` callers each sending its next request when answered."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def caller(i: int) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await call(i)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(concurrency)))
    return done / (time.perf_counter() - started)


def w2(seconds: float, engines: list[str], repeat: int) -> dict[str, Any]:
    """Engines are measured in turns, point by point, so a busy neighbour hurts both alike."""
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    cache = Path(tempfile.gettempdir()) / "limelight-bench-onnx"
    runtimes: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for engine in engines:
        started = time.perf_counter()
        runtimes[engine] = load_runtime(
            "sentence-embedding", bundled_minilm_dir(), {"engine": engine}, LoadContext(cache)
        )
        out[engine] = {"load_s": round(time.perf_counter() - started, 2)}
    # Every model call comes from this one thread, as in the server (one OpenMP team for torch).
    model_thread = ThreadPoolExecutor(max_workers=1)
    for bs in BATCHES:
        best: dict[tuple[str, str], float] = {}
        means: dict[str, float] = {}
        for _ in range(repeat):
            for engine, rt in runtimes.items():
                direct = model_thread.submit(
                    time_direct, lambda rt=rt, bs=bs: rt.predict_batch(batch_of(bs)), bs, seconds
                )
                window, p10 = direct.result()
                best[engine, "direct"] = max(best.get((engine, "direct"), 0.0), window)
                best[engine, "direct_p10"] = max(best.get((engine, "direct_p10"), 0.0), p10)
                rate, means[engine] = asyncio.run(via_batcher(rt, bs, seconds, model_thread))
                best[engine, "batcher"] = max(best.get((engine, "batcher"), 0.0), rate)
        for engine in runtimes:
            d, b = best[engine, "direct"], best[engine, "batcher"]
            out[engine][str(bs)] = {
                "direct": round(d, 1),
                "direct_p10": round(best[engine, "direct_p10"], 1),
                "batcher": round(b, 1),
                "mean_batch": round(means[engine], 1),
            }
            print(
                f"W2 {engine:5s} batch {bs:3d}: direct {d:7.1f}/s  batcher {b:7.1f}/s "
                f"(mean batch {means[engine]:4.1f})",
                flush=True,
            )
    model_thread.shutdown()
    for rt in runtimes.values():
        rt.close()
    return out


async def via_batcher(
    rt: Any, concurrency: int, seconds: float, executor: ThreadPoolExecutor
) -> tuple[float, float]:
    """Sentences/s with ``concurrency`` one-sentence callers through a greedy Batcher."""
    batcher = Batcher(
        rt.predict_batch, max_batch_size=concurrency, max_wait_ms=0, max_queue=1024, executor=executor
    )
    await closed_loop(lambda i: batcher.submit(SENTENCES[i % 8]), concurrency, 0.5)  # warm-up
    rate = await closed_loop(lambda i: batcher.submit(SENTENCES[i % 8]), concurrency, seconds)
    await batcher.close()
    return rate, batcher.stats().mean_batch_size


def overhead(seconds: float) -> dict[str, float]:
    def echo(items: list[Any]) -> list[Any]:
        return items

    async def per_request_us(inline: bool, concurrency: int) -> float:
        b = Batcher(echo, max_batch_size=1 if inline else 64, max_wait_ms=0, max_queue=4096, inline=inline)
        await closed_loop(lambda i: b.submit(i), concurrency, 0.5)
        rate = await closed_loop(lambda i: b.submit(i), concurrency, seconds)
        await b.close()
        return 1e6 / rate

    async def bare_us() -> float:  # the closed loop itself, with no batcher at all
        async def nothing(i: int) -> int:
            return i

        return 1e6 / await closed_loop(nothing, 1, seconds)

    res = {
        "loop_only_c1": asyncio.run(bare_us()),
        "inline_c1": asyncio.run(per_request_us(True, 1)),
        "thread_c1": asyncio.run(per_request_us(False, 1)),
        "thread_c64": asyncio.run(per_request_us(False, 64)),
    }
    for name, us in res.items():
        print(f"overhead {name:13s}: {us:6.2f} us/request", flush=True)
    return {k: round(v, 2) for k, v in res.items()}


def w1(seconds: float) -> dict[str, float]:
    import numpy as np
    import skops.io
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 20))
    y = (x @ rng.normal(size=20) + 0.5 * rng.normal(size=2000) > 0).astype(int)
    row = [round(float(v), 6) for v in rng.uniform(-2, 2, size=20)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w1.skops"
        skops.io.dump(LogisticRegression(max_iter=1000).fit(x, y), path)
        res: dict[str, float] = {}
        for label, config, conc in [
            ("inline_c1", BatchConfig(max_batch_size=1, max_wait_ms=0, inline=True), 1),
            ("inline_c32", BatchConfig(max_batch_size=1, max_wait_ms=0, inline=True), 32),
            ("batched_c1", BatchConfig(max_batch_size=64, max_wait_ms=0), 1),
            ("batched_c32", BatchConfig(max_batch_size=64, max_wait_ms=0), 32),
        ]:

            async def run(config: BatchConfig = config, conc: int = conc) -> float:
                host = ModelHost(
                    lambda key: load_runtime("sklearn", path, {}),
                    memory_budget_bytes=1 << 30,
                    default_batch=config,
                )
                key = VersionKey("bench", "w1", 1)
                await closed_loop(lambda i: host.predict(key, [row]), conc, 0.5)
                rate = await closed_loop(lambda i: host.predict(key, [row]), conc, seconds)
                await host.close()
                return rate

            res[label] = round(asyncio.run(run()), 1)
            print(
                f"W1 host.predict {label:15s}: {res[label]:8.1f} req/s ({1e6 / res[label]:6.1f} us/request)",
                flush=True,
            )
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--repeat", type=int, default=2, help="W2: best of this many runs per point")
    args = ap.parse_args()
    try:
        import uvloop  # the server runs on uvloop; measure on it too

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"
    out: dict[str, Any] = {
        "loop": loop_name,
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
        "repeat": args.repeat,
        "loadavg_before": os.getloadavg()[0],
    }
    out["overhead_us"] = overhead(args.seconds)
    out["w1"] = w1(args.seconds)
    out["w2"] = w2(args.seconds, ["onnx"] if args.no_torch else ["torch", "onnx"], args.repeat)
    out["loadavg_after"] = os.getloadavg()[0]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print_tables(out)


def print_tables(out: dict[str, Any]) -> None:
    print(
        f"\n## W2 sentences/s (loop: {out['loop']}, best of {out['repeat']}, "
        f"load average {out['loadavg_before']:.1f} -> {out['loadavg_after']:.1f})\n"
    )
    print("| engine | mode | " + " | ".join(f"batch {b}" for b in BATCHES) + " |")
    print("|---|---|" + "---:|" * len(BATCHES))
    for engine, res in out["w2"].items():
        for mode in ("direct", "direct_p10", "batcher"):
            cells = " | ".join(f"{res[str(b)][mode]:.1f}" for b in BATCHES)
            print(f"| {engine} | {mode} | {cells} |")
    if {"torch", "onnx"} <= set(out["w2"]):
        ratios = " | ".join(
            f"{out['w2']['onnx'][str(b)]['direct_p10'] / out['w2']['torch'][str(b)]['direct_p10']:.2f}x"
            for b in BATCHES
        )
        print(f"| onnx/torch | direct_p10 | {ratios} |")
    print("\n## Batcher overhead, trivial model (us/request)\n")
    for name, us in out["overhead_us"].items():
        print(f"- {name}: {us:.2f}")
    print("\n## W1 through ModelHost (req/s)\n")
    for name, rate in out["w1"].items():
        print(f"- {name}: {rate:,.0f}")


if __name__ == "__main__":
    main()
