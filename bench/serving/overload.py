#!/usr/bin/env python3
"""Overload check (issue 4): measure capacity C with wrk (c=32), then offer FACTOR x C req/s for
SECONDS (wrk with overload.lua: many connections, each pausing DELAY_MS between requests, so the
offered rate does not drop when the server slows down), then throughput second by second.
Pass: only 200, 429 or 503 answers, none slower than the deployment's timeout, and throughput back
to >= 90 % of C within 5 s after the overload ends.

The deployment bounds the queue (max_queue); on top, the engine refuses at once a request whose
predicted queue wait would outlast its timeout, so the excess gets 503 + Retry-After, not a 504.

  python3 overload.py [w1|w2] [--factor 3] [--seconds 60] [--timeout-ms 2000] [--max-queue 128]
                      [--variant torch]      (stdlib only; starts its own server)
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import bench
import limelight_run as run

RECOVERY_S = 10
DELAY_MS = 100  # per-connection pause; --pause-ms changes it


def wrk(url, bodyfile, conns, seconds, script="post.lua", *extra):
    cmd = ["wrk", "-t", "1", "-c", str(conns), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", os.path.join(bench.HERE, script), url, "--", bodyfile, *map(str, extra)]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no RESULT line:\n{out}")
    return json.loads(line[7:])


def served(result):
    """Successful answers per second of a post.lua run (its `requests` also counts 503s)."""
    return (result["requests"] - result["err_status"]) / (result["duration_us"] / 1e6)


def calibrate(url, bodyfile, target_rps):
    """Connections for ``target_rps``: each connection offers 1000 / (DELAY_MS + latency) req/s, and
    latency grows with load, so start from the pause alone and scale by what short runs achieved."""
    conns = math.ceil(target_rps * DELAY_MS / 1000)
    for _ in range(8):
        probe = wrk(url, bodyfile, conns, 4, "overload.lua", DELAY_MS)
        offered = sum(probe["statuses"].values()) / (probe["duration_us"] / 1e6)
        print(f"calibrating: {conns} connections offer {offered:,.0f} req/s (target {target_rps:,.0f})", flush=True)
        if offered >= target_rps:
            break
        conns = math.ceil(conns * min(2.0, 1.05 * target_rps / offered))
        time.sleep(2)
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", nargs="?", default="w2", choices=["w1", "w2"])
    ap.add_argument("--factor", type=float, default=3.0)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--timeout-ms", type=int, default=2000)
    ap.add_argument("--max-queue", type=int, default=128)
    ap.add_argument("--variant", default="")
    ap.add_argument("--pause-ms", type=int, default=100, help="per-connection pause (fewer connections when small)")
    args = ap.parse_args()
    global DELAY_MS
    DELAY_MS = args.pause_ms
    url = f"http://{bench.HOST}:{run.PORT}{run.PATHS[args.workload]}"
    bodyfile = f"{bench.SCRATCH}/bodies_overload_{args.workload}.jsonl"
    with open(bodyfile, "w") as f:
        f.writelines(json.dumps(run.BODIES[args.workload](i)) + "\n" for i in range(8))
    # this measures load shedding (503) at 3-4x capacity from one key: the default per-key rate
    # limit (10,000/s) would answer part of that flood with 429 instead, so it is off, explicitly
    proc, auth = run.start(args.workload, args.variant, LIMELIGHT_LIMITS__RATE_LIMIT_PER_KEY_PER_S="0")
    os.environ["WRK_AUTH"] = auth
    try:
        run.api("PUT", f"/api/v1/orgs/bench/deployments/{args.workload}", auth,
                {"routes": [{"version": 1, "weight": 1}], "max_batch_size": 64, "max_wait_ms": 2,
                 "max_queue": args.max_queue, "timeout_ms": args.timeout_ms})
        time.sleep(2.0)
        wrk(url, bodyfile, 32, 5)  # warm-up
        base = wrk(url, bodyfile, 32, 10)
        capacity = served(base)
        conns = calibrate(url, bodyfile, args.factor * capacity)
        flood = wrk(url, bodyfile, conns, args.seconds, "overload.lua", DELAY_MS)
        after = [wrk(url, bodyfile, 32, 1) for _ in range(RECOVERY_S)]
    finally:
        bench.stop(proc)
    report(args, capacity, conns, flood, after)


def report(args, capacity, conns, flood, after):
    statuses = {int(k): v for k, v in flood["statuses"].items()}
    errors = sum(flood[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    total = sum(statuses.values()) + errors
    seconds = flood["duration_us"] / 1e6
    per_second = [served(a) for a in after]
    back_s = next((i + 1 for i, rps in enumerate(per_second) if rps >= 0.9 * capacity), math.inf)
    timeout_s = args.timeout_ms / 1000
    checks = {"only 200/429/503 (and no socket errors)": set(statuses) <= {200, 429, 503} and errors == 0,
              f"none slower than the timeout ({timeout_s:g} s)": flood["max_us"] / 1e6 <= timeout_s,
              "throughput back to >= 90 % within 5 s": back_s <= 5}
    print(f"workload {args.workload}{':' + args.variant if args.variant else ''}: capacity {capacity:,.0f} req/s "
          f"(wrk c=32); offered {total / seconds:,.0f} req/s ({conns} connections pausing {DELAY_MS} ms) "
          f"for {seconds:.0f} s; deployment max_queue={args.max_queue}, timeout_ms={args.timeout_ms}\n")
    print("| during overload | value |\n|---|---|")
    print(f"| answers | {total:,} ({total / seconds:,.0f}/s) |")
    for status, count in sorted(statuses.items()):
        print(f"| status {status} | {count:,} ({100 * count / total:.1f} %) |")
    print(f"| socket errors / timeouts | {errors} |")
    print(f"| served (200) per second | {statuses.get(200, 0) / seconds:,.0f} |")
    print(f"| latency p50 / p99 / max (all answers) | {flood['p50_us'] / 1000:.1f} / {flood['p99_us'] / 1000:.1f} / "
          f"{flood['max_us'] / 1000:.1f} ms |")
    print(f"| served (200) per second, each second after | {', '.join(f'{r:,.0f}' for r in per_second)} |\n")
    print("| check | pass |\n|---|---|")
    for name, passed in checks.items():
        print(f"| {name} | {'yes' if passed else 'NO'} |")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
