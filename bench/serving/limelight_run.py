"""Start/stop a limelight bench server (server_limelight.py) and call its management API, for the
scripts that need more than bench.py's fixed wrk runs (canary.py, overload.py). Stdlib only."""
import json
import os
import subprocess
import time
import urllib.request

import bench
from common import HOST, PORTS, SENTENCES, W1_ROW

PORT = PORTS["limelight"]
PATHS = {"w1": "/v1/models/bench/w1:predict", "w2": "/v1/models/bench/w2:embed",
         "w3": "/v1/models/bench/w3:classify", "gen": "/v1/chat/completions"}
BODIES = {"w1": lambda i: {"inputs": [W1_ROW]}, "w2": lambda i: {"inputs": [SENTENCES[i % len(SENTENCES)]]},
          "w3": lambda i: {"texts": [SENTENCES[i % len(SENTENCES)]]},
          "gen": lambda i: {"model": "bench/gen", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}}


def start(workload, variant="", python=None, **env):
    """The server process, once it answered one request; its API key. ``python``: the interpreter
    to run it with (default: the harness' limelight venv)."""
    if os.path.exists(bench.AUTH_FILES["limelight"]):
        os.remove(bench.AUTH_FILES["limelight"])
    venv, script = bench.SYSTEMS["limelight"]
    os.makedirs(f"{bench.SCRATCH}/logs", exist_ok=True)
    log = open(f"{bench.SCRATCH}/logs/limelight_{workload}_{os.path.basename(script)}.log", "w")
    proc = subprocess.Popen(
        [python or f"{bench.VENVS}/{venv}/bin/python", os.path.join(bench.HERE, script), workload], cwd=bench.HERE,
        env=dict(os.environ, HF_HUB_OFFLINE="1", VARIANT=variant, PYTHONUNBUFFERED="1", **env),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 300
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited rc={proc.returncode}; see {log.name}")
        try:
            auth = bench.auth_header("limelight")
            if auth:
                status, _ = bench.post(f"http://{HOST}:{PORT}{PATHS[workload]}",
                                       json.dumps(BODIES[workload](0)), auth=auth)
                if status == 200:
                    return proc, auth
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if time.time() > deadline:
            bench.stop(proc)
            raise RuntimeError("server not ready in 300 s")
        time.sleep(1)


def api(method, path, auth, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{PORT}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", "Authorization": auth})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")
