"""limelight in the shared harness: the real platform, not a stub. A fresh install (SQLite, local
artifacts) gets an org ``bench`` and an admin API key; the workload's model is registered as a
version through the management API, then this process becomes ``limelight serve`` (exec: nothing
of the set-up stays resident). Requests are authenticated (bench.py/post.lua send the key).

  W1: common.w1_model() saved with skops -> runtime ``sklearn``     POST /v1/models/bench/w1:predict
  W2: the packaged MiniLM weights (model.safetensors) -> runtime ``sentence-embedding``,
      params {"engine": "onnx"} (VARIANT=torch: {"engine": "torch"})  POST /v1/models/bench/w2:embed

  W3: a ``text-classifier`` .npz named by $LIMELIGHT_BENCH_TEXT_ARTIFACT (bench/text/classify_serving.py)
                                                                    POST /v1/models/bench/w3:classify
  gen: the GGUF named by $LIMELIGHT_BENCH_GGUF -> runtime ``llm`` with params $LIMELIGHT_BENCH_LLM_PARAMS
       (JSON; bench/generation/serving.py)                          POST /v1/chat/completions, model bench/gen

Usage: python server_limelight.py w1|w2|w3|gen     -> http://127.0.0.1:8108  (key in $SCRATCH/limelight.key)
The ONNX export of W2 is cached under $SCRATCH/limelight-home-w2/cache and survives re-runs.
Env: LIMELIGHT_* settings pass through (e.g. LIMELIGHT_SERVER__WORKERS=2);
LIMELIGHT_BENCH_VERSIONS=N registers the artifact as versions 1..N (canary.py).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import common

SCRATCH = Path(os.environ.get("SCRATCH", "/tmp/perf-scratch"))
PASSWORD = "bench-password-123"


def fresh_home(workload: str, variant: str) -> Path:
    home = SCRATCH / f"limelight-home-{workload}{'-' + variant if variant else ''}"
    for name in ("meta.db", "meta.db-wal", "meta.db-shm", "artifacts", "run"):
        path = home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    home.mkdir(parents=True, exist_ok=True)
    return home


def cli(env: dict, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def w1_artifact() -> tuple[bytes, dict]:
    import skops.io

    return skops.io.dumps(common.w1_model()), {"runtime": "sklearn"}


def w2_artifact(variant: str) -> tuple[bytes, dict]:
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    weights = (bundled_minilm_dir() / "model.safetensors").read_bytes()
    engine = "torch" if variant == "torch" else "onnx"
    return weights, {"runtime": "sentence-embedding",
                     "params": {"engine": engine, "threads": common.TORCH_THREADS, "base": "all-minilm-l6-v2"}}


def w3_artifact() -> tuple[bytes, dict]:
    return Path(os.environ["LIMELIGHT_BENCH_TEXT_ARTIFACT"]).read_bytes(), {"runtime": "text-classifier"}


def gen_artifact() -> tuple[bytes, dict]:
    params = json.loads(os.environ.get("LIMELIGHT_BENCH_LLM_PARAMS", "{}"))
    return Path(os.environ["LIMELIGHT_BENCH_GGUF"]).read_bytes(), {"runtime": "llm", "params": params}


def register(env: dict, key: str, workload: str, variant: str) -> None:
    """Create the model and upload its version in-process (the app with its lifespan, no port)."""
    os.environ.update(env)
    from fastapi.testclient import TestClient

    from limelight.config import load_settings
    from limelight.server.app import create_app

    data, meta = {"w1": w1_artifact, "w2": lambda: w2_artifact(variant), "w3": w3_artifact,
                  "gen": gen_artifact}[workload]()
    task = {"w1": "classify", "w2": "embed", "w3": "classify-text", "gen": "generate"}[workload]
    with TestClient(create_app(load_settings()), headers={"Authorization": f"Bearer {key}"}) as client:
        r = client.post("/api/v1/orgs/bench/models", json={"name": workload, "task": task})
        assert r.status_code == 201, r.text
        for _ in range(int(os.environ.get("LIMELIGHT_BENCH_VERSIONS", "1"))):  # canary.py wants 2
            r = client.post(f"/api/v1/orgs/bench/models/{workload}/versions",
                            files={"file": ("model", data)}, data={"meta": json.dumps(meta)})
            assert r.status_code == 201, r.text


def main() -> None:
    workload = common.workload_arg()
    variant = os.environ.get("VARIANT", "")
    home = fresh_home(workload, variant)
    env = dict(os.environ)
    env.update({
        "LIMELIGHT_HOME": str(home), "LIMELIGHT_DATABASE_URL": f"sqlite:///{home / 'meta.db'}",
        "LIMELIGHT_ARTIFACTS_URL": (home / "artifacts").as_uri(), "LIMELIGHT_WORKER__PROCESSES": "0",
        "LIMELIGHT_SERVER__HOST": common.HOST, "LIMELIGHT_SERVER__PORT": str(common.PORTS["limelight"]),
        "LIMELIGHT_SERVER__GRPC_PORT": env.get("LIMELIGHT_SERVER__GRPC_PORT", "0"),
    })
    env.pop("BATCH_STATS", None)  # the harness' batch log is for its own embed fn; we have /metrics
    cli(env, "db", "upgrade")
    key = cli(env, "init", "--org", "bench", "--username", "admin", "--password", PASSWORD, "--quiet")
    register(env, key, workload, variant)
    (SCRATCH / "limelight.key").write_text(key)
    os.execve(sys.executable, [sys.executable, "-m", "limelight.cli.main", "serve"], env)


if __name__ == "__main__":
    main()
