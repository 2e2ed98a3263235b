"""Marketplace search latency with 10,000 models, over HTTP against a live `limelight serve`.

Seeds a metadata store with a synthetic marketplace (``catalog.py``: 10,000 models in 101 orgs,
~70% public, 1-3 versions each, stars, 40 days of hourly traffic for 1,000 of them, Zipf-distributed
text), starts
``limelight serve`` on 127.0.0.1, and times ``GET /api/v1/models`` one request at a time for
each query kind (text, phrase with exclusion, facets, metric range, every sort, a second page),
after a warm-up. Prints p50 / p90 / p99 / max per kind; the target is p99 <= 50 ms.

    PYTHONPATH=src .venv/bin/python bench/marketplace/search.py                      # SQLite, temp dir
    PYTHONPATH=src .venv/bin/python bench/marketplace/search.py --reuse /tmp/bench-marketplace-XXXX
    PYTHONPATH=src .venv/bin/python bench/marketplace/search.py \\
        --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench'
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from catalog import RARE_WORDS, TAGS, WORDS, CatalogSize, seed  # noqa: E402

from limelight.db.session import open_database  # noqa: E402

PASSWORD = "bench-password-0123456789"
TARGET_P99_MS = 50.0
PAGE = 20
Params = dict[str, Any]


def _kinds(rng: random.Random) -> dict[str, Callable[[], Params]]:
    words, broad, rare = list(WORDS), list(WORDS[:5]), list(RARE_WORDS)
    return {
        "browse (newest)": lambda: {},
        "text, 1 domain word": lambda: {"q": rng.choice(words)},
        "text, 2 domain words": lambda: {"q": f"{rng.choice(words)} {rng.choice(words)}"},
        "text, 1 rare word": lambda: {"q": rng.choice(rare)},
        "text, broadest words": lambda: {"q": rng.choice(broad)},
        "phrase + exclusion": lambda: {"q": f'"{rng.choice(words)} {rng.choice(words)}" -{rng.choice(words)}'},
        "facets: task+tag+licence": lambda: {"task": rng.choice(("recommend", "classify", "embed", "search")),
                                             "tag": rng.choice(TAGS), "licence": rng.choice(("MIT", "Apache-2.0"))},
        "metric range + runtime": lambda: {"metric": f"ndcg@10>={rng.choice((0.3, 0.5, 0.8))}",
                                           "runtime": rng.choice(("lightgbm", "onnx", "sklearn"))},
        "sort=stars": lambda: {"sort": "stars"},
        "sort=usage": lambda: {"sort": "usage"},
        "text + sort=usage": lambda: {"q": rng.choice(words), "sort": "usage"},
        "org + sort=newest": lambda: {"org": f"bench-org-{rng.randrange(100):03d}", "sort": "newest"},
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=env, text=True,
                          capture_output=True, check=True, timeout=600)
    return done.stdout


def _env(home: Path, url: str) -> dict[str, str]:
    return {**os.environ, "LIMELIGHT_HOME": str(home), "LIMELIGHT_DATABASE_URL": url,
            "LIMELIGHT_ARTIFACTS_URL": (home / "artifacts").as_uri(), "LIMELIGHT_WORKER__PROCESSES": "0",
            "LIMELIGHT_LIMITS__API_RATE_LIMIT_PER_KEY_PER_S": "0", "HF_HUB_OFFLINE": "1"}


def prepare(home: Path, url: str, size: CatalogSize) -> str:
    """Migrates, initialises (the caller's org ``studio``), seeds; returns the admin's API key."""
    env = _env(home, url)
    _cli(env, "db", "upgrade")
    key = _cli(env, "init", "--org", "studio", "--username", "admin", "--password", PASSWORD, "--quiet")
    db = open_database(url)
    try:
        started = time.perf_counter()
        counts = seed(db, "studio", size)
        print(f"seeded {counts} in {time.perf_counter() - started:.0f} s", flush=True)
        if db.url.startswith("postgresql"):
            with db.write_engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    finally:
        db.dispose()
    (home / "bench-key").write_text(key.strip().splitlines()[-1])
    return (home / "bench-key").read_text()


def serve(home: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = open(home / "server.log", "ab")  # noqa: SIM115 - the child process owns it
    process = subprocess.Popen([sys.executable, "-m", "limelight.cli.main", "serve", "--port", str(port)],
                               env=_env(home, url), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((home / "server.log").read_text()[-3000:])
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready in 120 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _timed(client: httpx.Client, params: Params) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.get("/api/v1/models", params=params)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{params}: {response.status_code} {response.text[:300]}")
    return elapsed_ms, response.json()


def measure(base: str, key: str, requests: int, warmup: int) -> list[tuple[str, list[float], float]]:
    rng = random.Random(2026)
    rows = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        kinds = _kinds(rng)
        for name, make in kinds.items():
            for _ in range(warmup):
                _timed(client, {**make(), "limit": PAGE})
            times, totals = [], []
            for _ in range(requests):
                elapsed, body = _timed(client, {**make(), "limit": PAGE})
                times.append(elapsed)
                totals.append(body["total"])
            rows.append((name, times, statistics.fmean(totals)))
        rows.append(_second_pages(client, rng, requests))
    return rows


def _second_pages(client: httpx.Client, rng: random.Random, requests: int) -> tuple[str, list[float], float]:
    """The page after the first, for each sort in turn (the first page is not timed)."""
    times, totals = [], []
    sorts = ("newest", "stars", "usage", "relevance")
    for i in range(requests):
        params: Params = {"sort": sorts[i % 4], "limit": PAGE}
        if params["sort"] == "relevance":
            params["q"] = rng.choice(WORDS)
        _, first = _timed(client, params)
        elapsed, _ = _timed(client, {**params, "cursor": first["next_cursor"]})
        times.append(elapsed)
        totals.append(first["total"])
    return "next page (each sort)", times, statistics.fmean(totals)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(rows: list[tuple[str, list[float], float]], backend: str) -> bool:
    print(f"\nmarketplace search over HTTP, {backend}, limit={PAGE}, one request at a time\n")
    print("| query kind | n | matches (mean) | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for name, times, total in rows:
        p99 = _quantile(times, 0.99)
        worst = max(worst, p99)
        print(f"| {name} | {len(times)} | {total:,.0f} | {statistics.median(times):.1f} | {_quantile(times, 0.9):.1f} | "
              f"{p99:.1f} | {max(times):.1f} |")
    every = [t for _, times, _ in rows for t in times]
    print(f"| **all** | {len(every)} | | {statistics.median(every):.1f} | {_quantile(every, 0.9):.1f} | "
          f"{_quantile(every, 0.99):.1f} | {max(every):.1f} |")
    verdict = "meets" if worst <= TARGET_P99_MS else "misses"
    print(f"\nworst p99 {worst:.1f} ms: {verdict} the target p99 <= {TARGET_P99_MS:.0f} ms")
    return worst <= TARGET_P99_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: SQLite in the home folder")
    parser.add_argument("--reuse", type=Path, help="a home folder seeded by an earlier run")
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query kind")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    home = args.reuse or Path(tempfile.mkdtemp(prefix="bench-marketplace-"))
    url = args.database_url or f"sqlite:///{home / 'meta.db'}"
    if args.reuse:
        key = (home / "bench-key").read_text()
    else:
        key = prepare(home, url, CatalogSize(models=args.models))
    print(f"home: {home}", flush=True)
    process, base = serve(home, url)
    try:
        rows = measure(base, key, args.requests, args.warmup)
    finally:
        stop(process)
    report(rows, "PostgreSQL" if url.startswith("postgresql") else "SQLite")


if __name__ == "__main__":
    main()
