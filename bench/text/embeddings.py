"""W2 sentence embeddings through the native ``:embed`` verb and through OpenAI's ``/v1/embeddings``,
side by side on one limelight server, one sentence per request.

The server is bench/serving's W2 set-up (``server_limelight.py w2``: MiniLM, runtime
``sentence-embedding``, ONNX engine, org ``bench``, model ``w2``, port 8108); the load generator is
wrk with bench/serving's ``post.lua`` (``apt-get install -y wrk``). After a warm-up of each path it
runs (a) ``POST /v1/models/bench/w2:embed`` and (b) ``POST /v1/embeddings`` at the same concurrency
for the same time, and prints req/s, p50, p99 and the ratio b/a (target >= 0.9).

  python bench/text/embeddings.py [--duration-s 10] [--warmup-s 5] [--concurrency 32] [--rounds 1]

Run it with the interpreter that has limelight installed (PYTHONPATH=src for a checkout); the
server runs under the same interpreter. Nothing is written outside $SCRATCH (default /tmp/perf-scratch).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

SERVING = Path(__file__).resolve().parent.parent / "serving"
sys.path.insert(0, str(SERVING))

import limelight_run  # noqa: E402  (bench/serving)
from common import HOST, PORTS, SENTENCES  # noqa: E402

import bench  # noqa: E402  (bench/serving)

MODEL = "bench/w2"
PATHS = {"embed": f"/v1/models/{MODEL}:embed", "openai": "/v1/embeddings"}
BODIES = {"embed": lambda s: {"inputs": [s]}, "openai": lambda s: {"model": MODEL, "input": s}}
LABELS = {"embed": "(a) :embed (W2 path)", "openai": "(b) /v1/embeddings"}


def start_server() -> tuple[object, str]:
    proc, auth = limelight_run.start("w2", python=sys.executable)
    return proc, auth


def url(path: str) -> str:
    return f"http://{HOST}:{PORTS['limelight']}{PATHS[path]}"


def body_file(path: str, directory: str) -> str:
    name = os.path.join(directory, f"{path}.jsonl")
    with open(name, "w") as fh:
        fh.writelines(json.dumps(BODIES[path](s)) + "\n" for s in SENTENCES)
    return name


def check_answers(auth: str) -> None:
    """Both paths answer the same vector before anything is timed."""
    answers = {}
    for path in PATHS:
        status, data = bench.post(url(path), json.dumps(BODIES[path](SENTENCES[1])), auth=auth)
        assert status == 200, (path, status, data)
        answers[path] = data["embeddings"][0] if path == "embed" else data["data"][0]["embedding"]
    assert len(answers["embed"]) == 384
    assert max(abs(a - b) for a, b in zip(answers["embed"], answers["openai"], strict=True)) < 1e-4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=int, default=10)
    parser.add_argument("--warmup-s", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="a/b pairs; the table shows each")
    args = parser.parse_args()
    os.makedirs(bench.SCRATCH, exist_ok=True)
    proc, auth = start_server()
    os.environ["WRK_AUTH"] = auth  # post.lua sends it
    rows = []
    try:
        check_answers(auth)
        with tempfile.TemporaryDirectory() as tmp:
            files = {p: body_file(p, tmp) for p in PATHS}
            for p in PATHS:
                bench.run_wrk(url(p), files[p], 8, args.warmup_s)
            for _ in range(args.rounds):
                results = {p: bench.run_wrk(url(p), files[p], args.concurrency, args.duration_s) for p in PATHS}
                rows.append(results)
    finally:
        bench.stop(proc)
    print(f"\nW2 one sentence per request, c={args.concurrency}, {args.duration_s} s each, {HOST}")
    print(f"{'path':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for results in rows:
        for p, r in results.items():
            print(f"{LABELS[p]:<24}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}")
        print(f"ratio b/a req/s: {results['openai']['rps'] / results['embed']['rps']:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
