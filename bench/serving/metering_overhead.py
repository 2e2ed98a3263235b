#!/usr/bin/env python3
"""What usage metering costs on W1: one run of the real platform with metering on or off.

  python3 metering_overhead.py --metering on|off [--quota] [--duration 15] [--conc 32]

Starts ``server_limelight.py w1`` (a fresh install) with ``LIMELIGHT_METERING__ENABLED`` set, warms
it up (3 s of wrk at c=8), loads it with wrk at ``--conc`` for ``--duration`` seconds and prints one
JSON line: req/s, p50/p99, and the server process's CPU microseconds per request over the timed
run (from /proc: on this 2-core box the server and wrk share the cores, so CPU per request is the
steadier measure of cost). ``--quota`` first gives the org a request quota it never reaches, so
every answer also checks it and carries the quota headers: the most metering does per request.
Run it on and off in turn (alternating, so drift hits both alike) and compare the medians; see
README.md, "Metering overhead". Stdlib only; the server runs on this interpreter (the repo's venv).
"""
import argparse
import json
import os
import sys
import time
import urllib.request

import limelight_run
from common import HOST, PORTS, W1_ROW

import bench

_TICKS_S = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system seconds of the process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_S  # utime, stime (fields 14, 15 of stat)


def quota_headers_sent(url: str, auth: str) -> bool:
    """Whether an answer carries the quota headers (it should exactly when metering is on with --quota)."""
    req = urllib.request.Request(url, data=json.dumps({"inputs": [W1_ROW]}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": auth})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("x-quota-requests-remaining") is not None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metering", choices=["on", "off"], required=True)
    ap.add_argument("--quota", action="store_true", help="a request quota the run never reaches")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--conc", type=int, default=32)
    a = ap.parse_args()
    enabled = "true" if a.metering == "on" else "false"
    proc, auth = limelight_run.start("w1", python=sys.executable, LIMELIGHT_METERING__ENABLED=enabled)
    try:
        if a.quota:
            limelight_run.api("PUT", "/api/v1/orgs/bench/quotas", auth, {"requests_per_month": 10 ** 12})
            time.sleep(2.5)  # every API process re-reads the quotas every 2 s
        bodyfile = f"{bench.SCRATCH}/bodies_limelight_w1.jsonl"
        with open(bodyfile, "w") as f:
            f.write(json.dumps({"inputs": [W1_ROW]}) + "\n")
        url = f"http://{HOST}:{PORTS['limelight']}{limelight_run.PATHS['w1']}"
        os.environ["WRK_AUTH"] = auth  # read by post.lua
        headers = quota_headers_sent(url, auth)
        bench.run_wrk(url, bodyfile, 8, 3)  # warm-up, discarded
        before = cpu_s(proc.pid)
        result = bench.run_wrk(url, bodyfile, a.conc, a.duration)
        server_cpu_s = cpu_s(proc.pid) - before
    finally:
        bench.stop(proc)
    print(json.dumps({"metering": a.metering, "quota": a.quota, "quota_headers": headers, "conc": a.conc,
                      "requests": result["requests"],
                      "errors": result["errors"], "rps": result["rps"], "p50_ms": result["p50_ms"],
                      "p99_ms": result["p99_ms"],
                      "server_cpu_us_per_request": round(server_cpu_s * 1e6 / max(1, result["requests"]), 1)}),
          flush=True)


if __name__ == "__main__":
    main()
