"""Monitoring latency with 200 models and 7 days of per-minute history, through a real server.

Seeds the metadata store directly through the rollup repository (one org with ``--models``
models, every minute of ``--days`` days, one version each; a few canaries with a second version
over the last 6 hours; a second org with traffic of its own that must not show), starts
``limelight serve`` on it, and times the monitoring API and the console pages.

    PYTHONPATH=src python bench/monitoring/run.py                      # SQLite in a temp dir
    PYTHONPATH=src python bench/monitoring/run.py --database-url postgresql+psycopg://127.0.0.1/test

Prints one table: median and p95 over ``--repeat`` requests, and the row counts seeded.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from limelight.db.migrate import upgrade
from limelight.db.models import Deployment, Model, ModelAlias, ModelVersion, Org
from limelight.db.models.monitoring import BUCKET_COLUMNS
from limelight.db.session import open_database
from limelight.monitoring import repository

PASSWORD = "bench-password-0123456789"
BATCH_ROWS = 20_000


def _row(model_id: str, org_id: str, step_s: int, start_s: int, version: int, rng: random.Random) -> dict[str, Any]:
    requests = rng.randint(20, 200) * (step_s // 60)
    buckets = [0] * len(BUCKET_COLUMNS)
    buckets[3], buckets[4], buckets[6] = requests // 2, requests // 3, requests - requests // 2 - requests // 3
    return {"model_id": model_id, "org_id": org_id, "step_s": step_s, "start_s": start_s, "version": version,
            "requests": requests, "client_errors": requests // 50, "server_errors": requests // 500,
            "latency_sum_ms": requests * 12.0, **dict(zip(BUCKET_COLUMNS, buckets, strict=True))}


def _models(session: Any, org_name: str, count: int) -> tuple[str, list[str]]:
    org = session.query(Org).filter_by(name=org_name).one_or_none() or Org(name=org_name, display_name=org_name)
    session.add(org)
    session.flush()
    ids = []
    for i in range(count):
        model = Model(org_id=org.id, name=f"model-{i:03d}", task="classify", latest_version=2)
        session.add(model)
        session.flush()
        v1 = ModelVersion(model_id=model.id, version=1, blob_sha256="0" * 64, size_bytes=1, format="json",
                          runtime="json", created_by="bench")
        session.add(v1)
        session.flush()
        session.add(ModelAlias(model_id=model.id, alias="production", version_id=v1.id))
        if i < 5:  # canaries
            session.add(Deployment(model_id=model.id, routes=[{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]))
        ids.append(model.id)
    return org.id, ids


def seed(url: str, models: int, days: int) -> dict[str, int]:
    db = open_database(url)
    upgrade(db)
    rng = random.Random(7)
    now_s = int(time.time()) // 60 * 60
    with db.transaction() as session:
        org_id, ids = _models(session, "studio", models)
        other_id, others = _models(session, "other", 5)
    counts = {"minute rows": 0, "hour rows": 0}
    plan = [(org_id, m) for m in ids] + [(other_id, m) for m in others]
    for n, (owner, model_id) in enumerate(plan):
        rows = [_row(model_id, owner, 60, s, 1, rng) for s in range(now_s - days * 86400, now_s + 60, 60)]
        if n < 5:
            rows += [_row(model_id, owner, 60, s, 2, rng) for s in range(now_s - 6 * 3600, now_s + 60, 60)]
        hours = [_row(model_id, owner, 3600, s, 1, rng) for s in range(now_s // 3600 * 3600 - days * 86400,
                                                                       now_s + 3600, 3600)]
        rows.sort(key=lambda r: (r["org_id"], r["step_s"], r["start_s"], r["model_id"], r["version"]))
        with db.transaction() as session:
            for i in range(0, len(rows), BATCH_ROWS):
                repository.add_counts(session, rows[i:i + BATCH_ROWS])
            repository.add_counts(session, hours)
        counts["minute rows"] += len(rows)
        counts["hour rows"] += len(hours)
    db.dispose()
    return counts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=env, text=True,
                          capture_output=True, check=True, timeout=300)
    return done.stdout


def _env(home: Path, url: str) -> dict[str, str]:
    return dict(os.environ, LIMELIGHT_HOME=str(home), LIMELIGHT_DATABASE_URL=url,
                LIMELIGHT_WORKER__PROCESSES="0", LIMELIGHT_SERVER__GRPC_PORT="0")


def _init(home: Path, url: str) -> str:
    """The org ``studio`` with its admin, and the admin's API key."""
    env = _env(home, url)
    _cli(env, "db", "upgrade")
    out = _cli(env, "init", "--org", "studio", "--username", "admin", "--password", PASSWORD, "--quiet")
    key = out.strip().splitlines()[-1]
    (home / "bench-key").write_text(key)
    return key


def _serve(home: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = _env(home, url)
    log = open(home / "server.log", "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen([sys.executable, "-m", "limelight.cli.main", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not become ready; see " + str(home / "server.log"))


def _time(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    client.get(path)  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", type=Path, help="the folder of an earlier run: time it again without seeding")
    args = parser.parse_args()
    home = args.reuse or Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    url = args.database_url or f"sqlite:///{home / 'meta.db'}"
    if args.reuse:
        key = (home / "bench-key").read_text()
    else:
        key = _init(home, url)
        started = time.perf_counter()
        counts = seed(url, args.models, args.days)
        print(f"seeded {counts} in {time.perf_counter() - started:.0f} s ({url.split('://')[0]}) in {home}")
    process, base = _serve(home, url)
    try:
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        page = httpx.Client(base_url=base, timeout=60)
        login = page.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD, "org": "studio"})
        assert login.status_code == 200, login.text
        rows = []
        for window in ("1h", "6h", "24h", "7d"):
            rows.append((f"GET /api/v1/orgs/studio/monitoring?window={window}",
                         *_time(api, f"/api/v1/orgs/studio/monitoring?window={window}", args.repeat)))
        for window in ("1h", "7d"):
            rows.append((f"GET /api/v1/orgs/studio/monitoring/models/model-000?window={window}",
                         *_time(api, f"/api/v1/orgs/studio/monitoring/models/model-000?window={window}", args.repeat)))
        for path in ("/monitoring", "/monitoring?window=7d", "/monitoring/model-000", "/monitoring/model-100?window=7d", "/"):
            rows.append((f"page {path}", *_time(page, path, args.repeat)))
    finally:
        process.terminate()
        process.wait(30)
    print(f"\n{args.models} models, {args.days} days of per-minute history, {args.repeat} requests each\n")
    print(f"| {'request':<72} | median ms | p95 ms | body bytes |")
    print(f"|{'-' * 74}|----------:|-------:|-----------:|")
    for name, median, p95, size in rows:
        print(f"| {name:<72} | {median:9.1f} | {p95:6.1f} | {size:10d} |")


if __name__ == "__main__":
    main()
