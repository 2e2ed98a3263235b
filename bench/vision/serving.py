"""Image classification serving benchmark: ``:classify`` through a real ``limelight serve`` at
concurrency 16, against onnxruntime in the benchmark's own process doing the same work (decode,
EXIF, resize, centre crop, normalise, one run per batch of 16) on the same pictures and model.

    PYTHONPATH=src .venv/bin/python bench/vision/serving.py [--duration 30] [--concurrency 16]

Pictures: ../shared/data/images/hymenoptera/val (real JPEG photos); the model is an
EfficientNet-Lite0-shaped ONNX graph (bench/vision/lite0.py). The served path adds HTTP, base64,
the sandboxed decode children and the batcher; the target is a served/in-process ratio >= 0.9.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = Path(os.environ.get("LIMELIGHT_BENCH_DATA", HERE.parents[1].parent / "shared" / "data")) / "images" / "hymenoptera"
PASSWORD = "bench-password-123"
BATCH = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, LIMELIGHT_HOME=str(home), LIMELIGHT_SERVER__GRPC_PORT="0",
                   LIMELIGHT_WORKER__PROCESSES="0", HF_HUB_OFFLINE="1")
        cli = [sys.executable, "-m", "limelight.cli.main"]
        out = subprocess.run([*cli, "init", "--org", "bench", "--password", PASSWORD, "--quiet"], env=env,
                             capture_output=True, text=True, check=True)
        self.key = out.stdout.strip().splitlines()[-1]
        self.log = open(home / "server.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen([*cli, "serve", "--port", str(self.port)], env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=300)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def pictures() -> list[bytes]:
    files = sorted(DATA.glob("val/*/*.jpg"))
    if not files:
        raise SystemExit(f"no pictures under {DATA}/val: nothing to measure")
    return [f.read_bytes() for f in files]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def in_process(model: Path, images: list[bytes], duration_s: float) -> dict[str, float]:
    """The same work without a server: decode and preprocess here, one onnxruntime run per 16."""
    import numpy as np
    import onnxruntime as ort

    from limelight.imaging.decode import ImageLimits, decode_rgb
    from limelight.runtimes.onnx_model import session_options
    from limelight.vision.preprocess import Preprocessing

    session = ort.InferenceSession(str(model), session_options(2), providers=["CPUExecutionProvider"])
    prep, limits = Preprocessing(), ImageLimits()
    latencies, done, at = [], 0, 0
    started = time.perf_counter()
    while time.perf_counter() - started < duration_s:
        batch = [images[(at + i) % len(images)] for i in range(BATCH)]
        at += BATCH
        t0 = time.perf_counter()
        pixels = np.stack([prep.normalise(prep.crop(decode_rgb(data, limits))) for data in batch])
        session.run(None, {"pixels": pixels})
        latencies.append(time.perf_counter() - t0)
        done += BATCH
    elapsed = time.perf_counter() - started
    return {"images_s": done / elapsed, "p50_ms": 1000 * percentile(latencies, 0.5),
            "p99_ms": 1000 * percentile(latencies, 0.99), "requests": len(latencies)}


async def served(url: str, key: str, bodies: list[bytes], concurrency: int, duration_s: float) -> dict[str, float]:
    """``concurrency`` clients, each sending one picture per ``:classify`` request, back to back."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as client:
        stop_at = time.perf_counter() + duration_s

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                response = await client.post("/v1/models/bench/lite0:classify", content=bodies[i % len(bodies)])
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1
                i += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"images_s": len(latencies) / elapsed, "p50_ms": 1000 * percentile(latencies, 0.5),
            "p99_ms": 1000 * percentile(latencies, 0.99), "requests": len(latencies), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    import lite0

    images = pictures()
    bodies = [json.dumps({"image": base64.b64encode(data).decode()}).encode() for data in images]
    with tempfile.TemporaryDirectory() as tmp:
        model = lite0.export(Path(tmp) / "lite0.onnx", ("ants", "bees"))
        server = Server(Path(tmp))
        try:
            with server.client() as client:
                client.post("/api/v1/orgs/bench/models", json={"name": "lite0", "task": "classify"}).raise_for_status()
                client.post("/api/v1/orgs/bench/models/lite0/versions", files={"file": ("m.onnx", model.read_bytes())},
                            data={"meta": json.dumps({"runtime": "image-classifier"})}).raise_for_status()
                for body in bodies[:4]:  # load the version and warm the decoders
                    client.post("/v1/models/bench/lite0:classify", content=body,
                                headers={"content-type": "application/json"}).raise_for_status()
            http = asyncio.run(served(server.url, server.key, bodies, args.concurrency, args.duration))
        finally:
            server.stop()
        local = in_process(model, images, args.duration)
    print(f"\n{len(images)} JPEG photos (hymenoptera val), EfficientNet-Lite0-shaped ONNX, 224x224, "
          f"{args.duration:g} s each, {os.cpu_count()} cores")
    print("| path | images/s | p50 ms | p99 ms | requests | errors |\n|---|---:|---:|---:|---:|---:|")
    print(f"| :classify over HTTP, c={args.concurrency}, 1 image/request | {http['images_s']:.1f} | "
          f"{http['p50_ms']:.0f} | {http['p99_ms']:.0f} | {http['requests']:.0f} | {http['errors']:.0f} |")
    print(f"| onnxruntime in-process, batches of {BATCH} (latency per batch) | {local['images_s']:.1f} | "
          f"{local['p50_ms']:.0f} | {local['p99_ms']:.0f} | {local['requests']:.0f} | 0 |")
    print(f"\nratio served/in-process images/s: {http['images_s'] / local['images_s']:.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
