#!/usr/bin/env python3
"""Start one system, load it with wrk at several concurrencies, stop it (by PID).

  python3 bench.py SYSTEM WORKLOAD [--duration 15] [--conc 1,8,32,64] [--repeat 2]

SYSTEM: fastapi asgi bentoml mlflow litserve ray asgi_batch limelight (or any name added to
SYSTEMS below); SYSTEM:VARIANT (e.g. bentoml:async) runs the same
script with env VARIANT=... (see the server script). WORKLOAD: w1 | w2.
Stdlib only; run with any python3. Appends one JSON line per wrk run to
results/raw.jsonl; report.py turns that into markdown tables.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import HOST, PORTS, SENTENCES, W1_ROW  # noqa: E402

VENVS = os.environ.get("VENVS", "/tmp/perf-venvs")
SCRATCH = os.environ.get("SCRATCH", "/tmp/perf-scratch")


# --- request/response adapters: same semantics, each system's own wire format ---
def _std(w1_path="/predict", w2_path="/embed"):
    return {
        "w1": (w1_path, lambda: [{"features": W1_ROW}], lambda r: r["probabilities"], 2),
        "w2": (w2_path, lambda: [{"text": s} for s in SENTENCES], lambda r: r["embedding"], 384),
    }


ADAPTERS = {
    "fastapi": _std(), "asgi": _std(), "asgi_batch": _std(), "litserve": _std(), "ray": _std(),
    # BentoML batchable APIs take/return a batch (list) per request.
    "bentoml": {**_std(),
                "w2": ("/embed", lambda: [{"texts": [s]} for s in SENTENCES], lambda r: r[0], 384)},
    # MLflow scoring server: /invocations, {"inputs": ...} -> {"predictions": ...}
    "mlflow": {"w1": ("/invocations", lambda: [{"inputs": [W1_ROW]}],
                      lambda r: r["predictions"][0], 2),
               "w2": ("/invocations", lambda: [{"inputs": [s]} for s in SENTENCES],
                      lambda r: r["predictions"][0], 384)},
    # limelight: its native protocol, authenticated (API key from AUTH_FILES, sent by post.lua)
    "limelight": {"w1": ("/v1/models/bench/w1:predict", lambda: [{"inputs": [W1_ROW]}],
                         lambda r: r["outputs"][0], 2),
                  "w2": ("/v1/models/bench/w2:embed", lambda: [{"inputs": [s]} for s in SENTENCES],
                         lambda r: r["embeddings"][0], 384)},
}
# systems that need an API key: the server script writes it here once it is set up
AUTH_FILES = {"limelight": f"{SCRATCH}/limelight.key"}
# which venv + script starts each system (script receives the workload as argv[1])
SYSTEMS = {
    "fastapi": ("base", "server_fastapi.py"),
    "asgi": ("base", "server_asgi.py"),
    "asgi_batch": ("base", "server_asgi_batch.py"),
    "bentoml": ("bentoml", "server_bentoml.py"),
    "mlflow": ("mlflow", "server_mlflow.py"),
    "litserve": ("litserve", "server_litserve.py"),
    "ray": ("ray", "server_ray.py"),
    "limelight": ("limelight", "server_limelight.py"),
}


def auth_header(system):
    """'Bearer <key>' for systems in AUTH_FILES once their key file exists, else ''."""
    path = AUTH_FILES.get(system)
    if path and os.path.exists(path):
        with open(path) as f:
            return f"Bearer {f.read().strip()}"
    return ""


def post(url, body, timeout=30, auth=""):
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def proc_tree(root):
    """PIDs of root, its descendants, and anything left in its session."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,sid="], capture_output=True, text=True).stdout
    rows = [tuple(map(int, line.split())) for line in out.splitlines() if line.strip()]
    pids, changed = {root}, True
    while changed:
        changed = False
        for pid, ppid, sid in rows:
            if pid not in pids and (ppid in pids or sid == root):
                pids.add(pid)
                changed = True
    return sorted(p for p in pids if os.path.exists(f"/proc/{p}"))


def rss_mb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024)


def _alive(p):
    try:
        with open(f"/proc/{p}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"   # zombies count as gone
    except OSError:
        return False


def _signal(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def stop(proc):
    """SIGTERM the server we started; then SIGTERM/SIGKILL its leftover children by PID."""
    pids = proc_tree(proc.pid)
    for targets, sig, wait in (([proc.pid], signal.SIGTERM, 20), (pids, signal.SIGTERM, 5),
                               (pids, signal.SIGKILL, 5)):
        _signal([p for p in targets if _alive(p)], sig)
        deadline = time.time() + wait
        while time.time() < deadline and any(map(_alive, pids)):
            proc.poll()
            time.sleep(0.2)
        if not any(map(_alive, pids)):
            break
    proc.poll()
    return pids


def run_wrk(url, bodyfile, conc, duration):
    cmd = ["wrk", "-t", "1", "-c", str(conc), "-d", f"{duration}s", "--timeout", "10s",
           "-s", os.path.join(HERE, "post.lua"), url, "--", bodyfile]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no RESULT line:\n{out}")
    r = json.loads(line[7:])
    secs = r["duration_us"] / 1e6
    errs = sum(r[k] for k in r if k.startswith("err_"))
    return {"rps": round(r["requests"] / secs, 1), "p50_ms": r["p50_us"] / 1000,
            "p90_ms": r["p90_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "requests": r["requests"], "errors": errs,
            "wrk": r}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system")
    ap.add_argument("workload", choices=["w1", "w2"])
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--conc", default="1,8,32,64")
    ap.add_argument("--repeat", type=int, default=2, help="extra runs at concurrency 32")
    ap.add_argument("--port", type=int, help="default: PORTS[system]")
    ap.add_argument("--no-start", action="store_true", help="server already running")
    ap.add_argument("--note", default="")
    a = ap.parse_args()

    base, _, variant = a.system.partition(":")
    port = a.port or PORTS[base]
    path, bodies, extract, width = ADAPTERS.get(base, _std())[a.workload]
    url = f"http://{HOST}:{port}{path}"
    os.makedirs(f"{SCRATCH}/logs", exist_ok=True)
    bodyfile = f"{SCRATCH}/bodies_{base}_{a.workload}.jsonl"
    with open(bodyfile, "w") as f:
        f.writelines(json.dumps(b) + "\n" for b in bodies())

    proc = None
    if base in AUTH_FILES and not a.no_start and os.path.exists(AUTH_FILES[base]):
        os.remove(AUTH_FILES[base])          # the server writes a fresh one
    if not a.no_start:
        venv, script = SYSTEMS[base]
        log = open(f"{SCRATCH}/logs/{a.system.replace(':', '_')}_{a.workload}.log", "w")
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", BATCH_STATS="1",
                   VARIANT=variant,
                   PYTHONUNBUFFERED="1", PATH=f"{VENVS}/{venv}/bin:" + os.environ["PATH"])
        proc = subprocess.Popen([f"{VENVS}/{venv}/bin/python", os.path.join(HERE, script),
                                 a.workload], cwd=HERE, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        print(f"started {a.system} pid={proc.pid} -> {url}", flush=True)
    try:
        t0, first = time.time(), open(bodyfile).readline()
        while True:                           # readiness = one correct answer
            if proc and proc.poll() is not None:
                raise RuntimeError(f"server exited rc={proc.returncode}, see logs")
            try:
                auth = auth_header(base)
                if base in AUTH_FILES and not auth:
                    raise OSError("no API key yet")
                status, resp = post(url, first, auth=auth)
                vec = extract(resp)
                assert status == 200 and len(vec) == width, (status, resp)
                break
            except AssertionError:
                raise
            except Exception:
                if time.time() - t0 > 300:
                    raise
                time.sleep(1)
        startup_s = round(time.time() - t0, 1)
        os.environ["WRK_AUTH"] = auth_header(base)   # read by post.lua
        print(f"ready after {startup_s}s; sample: {str(vec)[:80]}", flush=True)
        run_wrk(url, bodyfile, 8, a.warmup)      # warm-up, discarded
        concs = [int(c) for c in a.conc.split(",")] + [32] * a.repeat
        run_id, rep = uuid.uuid4().hex[:8], {}
        for c in concs:
            rep[c] = rep.get(c, 0) + 1
            r = run_wrk(url, bodyfile, c, a.duration)
            r.update(system=a.system, workload=a.workload, conc=c, rep=rep[c], run_id=run_id,
                     duration_s=a.duration, startup_s=startup_s, note=a.note,
                     ts=time.strftime("%Y-%m-%dT%H:%M:%S"),
                     rss_mb=rss_mb(proc_tree(proc.pid)) if proc else None)
            os.makedirs(f"{HERE}/results", exist_ok=True)
            with open(f"{HERE}/results/raw.jsonl", "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{a.system:10s} {a.workload} c={c:3d} rep{rep[c]}: {r['rps']:9.1f} req/s  "
                  f"p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms  err {r['errors']}  "
                  f"rss {r['rss_mb']} MB", flush=True)
            time.sleep(1)
    finally:
        if proc:
            pids = stop(proc)
            print(f"stopped pids {pids}", flush=True)


if __name__ == "__main__":
    main()
