#!/usr/bin/env python3
"""Canary check (issue 4): a deployment routes W1's version 1 at weight 90 and version 2 at weight
10. N requests (default 10,000) from N distinct users (Limelight-Routing-Key header) must give
version 2 a share within 10 +- 1.5 points; 1,000 of those users asking again, by header and by the
body's ``user_id`` field, must each get the version they got the first time. Requests without a
user key are split at random (share reported too). Prints a table; exit code 1 if a check fails.

  python3 canary.py [--requests 10000] [--conc 32]      (stdlib only; starts its own server)
"""
import argparse
import asyncio
import json
import random
import sys
import time

import bench
import limelight_run as run
from loadgen import closed_loop


def served_version(result):
    assert result.status == 200, (result.status, result.body[:200])
    return json.loads(result.body)["version"]


async def run_checks(args, auth):
    path, row = run.PATHS["w1"], run.BODIES["w1"](0)["inputs"][0]
    users = [f"viewer-{i}" for i in range(args.requests)]
    json_headers = {"Authorization": auth, "Content-Type": "application/json"}
    plain_body = json.dumps({"inputs": [row]}).encode()

    def by_header(i):
        return {**json_headers, "Limelight-Routing-Key": users[i]}, plain_body

    started = time.monotonic()
    first = await closed_loop(bench.HOST, run.PORT, path, by_header, args.conc, count=args.requests)
    elapsed_s = time.monotonic() - started
    chosen = {users[r.index]: served_version(r) for r in first}
    share = sum(v == 2 for v in chosen.values()) / len(chosen)

    again_users = random.Random(0).sample(users, 1000)
    again = await closed_loop(bench.HOST, run.PORT, path, lambda i: by_header(users.index(again_users[i])),
                              args.conc, count=len(again_users))
    by_body = await closed_loop(
        bench.HOST, run.PORT, path,
        lambda i: (json_headers, json.dumps({"inputs": [row], "user_id": again_users[i]}).encode()),
        args.conc, count=len(again_users))
    sticky_header = sum(served_version(r) == chosen[again_users[r.index]] for r in again)
    sticky_body = sum(served_version(r) == chosen[again_users[r.index]] for r in by_body)
    anonymous = await closed_loop(bench.HOST, run.PORT, path, lambda i: (json_headers, plain_body),
                                  args.conc, count=args.requests)
    anon_share = sum(served_version(r) == 2 for r in anonymous) / len(anonymous)
    return {"requests": len(chosen), "share_v2": share, "rps": len(first) / elapsed_s,
            "sticky_header": sticky_header, "sticky_body": sticky_body, "sticky_n": len(again_users),
            "anon_share_v2": anon_share}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--conc", type=int, default=32)
    args = ap.parse_args()
    proc, auth = run.start("w1", LIMELIGHT_BENCH_VERSIONS="2")
    try:
        run.api("PUT", "/api/v1/orgs/bench/deployments/w1", auth,
                {"routes": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]})
        time.sleep(2.0)  # routing snapshots are re-read every second
        r = asyncio.run(run_checks(args, auth))
    finally:
        bench.stop(proc)
    ok_share = abs(r["share_v2"] - 0.10) <= 0.015
    ok_sticky = r["sticky_header"] == r["sticky_body"] == r["sticky_n"]
    print("| check | result | target | pass |\n|---|---|---|---|")
    print(f"| share of v2 over {r['requests']:,} users (header key) | {100 * r['share_v2']:.2f} % | "
          f"10 +- 1.5 % | {'yes' if ok_share else 'NO'} |")
    print(f"| same version again, by header | {r['sticky_header']}/{r['sticky_n']} | all | "
          f"{'yes' if r['sticky_header'] == r['sticky_n'] else 'NO'} |")
    print(f"| same version again, by body user_id | {r['sticky_body']}/{r['sticky_n']} | all | "
          f"{'yes' if r['sticky_body'] == r['sticky_n'] else 'NO'} |")
    print(f"| share of v2 without a user key ({r['requests']:,} requests) | {100 * r['anon_share_v2']:.2f} % | "
          f"~10 % | - |")
    print(f"\n({r['rps']:,.0f} req/s during the first pass, c={args.conc})")
    sys.exit(0 if ok_share and ok_sticky else 1)


if __name__ == "__main__":
    main()
