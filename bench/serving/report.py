#!/usr/bin/env python3
"""Print markdown tables from results/raw.jsonl (latest run per system+workload)
and results/inproc.json.   Usage: python3 report.py [--all-runs] [--note NOTE]
(--note: only runs made with bench.py --note NOTE, e.g. one side-by-side session)"""
import json
import os
import statistics as st
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = ["fastapi", "asgi", "bentoml", "bentoml:async", "mlflow", "litserve",
         "litserve:fastqueue", "ray", "asgi_batch", "limelight", "limelight:torch"]


def load():
    rows = [json.loads(x) for x in open(f"{HERE}/results/raw.jsonl") if x.strip()]
    if "--note" in sys.argv:
        note = sys.argv[sys.argv.index("--note") + 1]
        rows = [r for r in rows if r.get("note") == note]
    latest = {}
    for r in rows:                              # later lines win
        latest[(r["system"], r["workload"])] = r["run_id"]
    if "--all-runs" in sys.argv:
        return rows
    return [r for r in rows if latest[(r["system"], r["workload"])] == r["run_id"]]


def fmt(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def tables(rows):
    for wl in ("w1", "w2"):
        sub = [r for r in rows if r["workload"] == wl]
        if not sub:
            continue
        systems = sorted({r["system"] for r in sub},
                         key=lambda s: (ORDER.index(s) if s in ORDER else 99, s))
        print(f"\n### {wl.upper()} ({'overhead' if wl == 'w1' else 'batching'})\n")
        print("| system | conc | req/s | p50 ms | p99 ms | errors | RSS MB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for s in systems:
            for c in sorted({r["conc"] for r in sub if r["system"] == s}):
                rs = [r for r in sub if r["system"] == s and r["conc"] == c]
                rps = [r["rps"] for r in rs]
                cell = fmt(st.median(rps))
                if len(rs) > 1:
                    cell += f" ({fmt(min(rps))}–{fmt(max(rps))}, n={len(rs)})"
                print(f"| {s} | {c} | {cell} | {fmt(st.median(r['p50_ms'] for r in rs))} | "
                      f"{fmt(st.median(r['p99_ms'] for r in rs))} | "
                      f"{sum(r['errors'] for r in rs)} | {max(r['rss_mb'] or 0 for r in rs)} |")
        print("\nRepeat spread at c=32 ((max-min)/median of req/s):")
        for s in systems:
            rps = [r["rps"] for r in sub if r["system"] == s and r["conc"] == 32]
            if len(rps) > 1:
                print(f"- {s}: {', '.join(fmt(x) for x in rps)} -> "
                      f"{100 * (max(rps) - min(rps)) / st.median(rps):.1f}%")


def inproc():
    p = f"{HERE}/results/inproc.json"
    if not os.path.exists(p):
        return
    d = json.load(open(p))
    print(f"\n### In-process limits (threads={d['torch_threads']})\n")
    w1 = d["w1_predict_proba_1row"]
    print(f"W1 predict_proba, 1 row: {fmt(w1['items_per_s'])} calls/s "
          f"({w1['ms_per_call'] * 1000:.0f} µs/call)\n")
    print("| W2 engine | batch 1 | batch 8 | batch 32 | batch 64 | min cos vs torch |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, v in d.items():
        if k.startswith("w2_"):
            if "error" in v:
                print(f"| {k[3:]} | failed: {v['error'][:60]} | | | | |")
                continue
            cells = " | ".join(fmt(v[str(b)]["items_per_s"]) for b in (1, 8, 32, 64))
            print(f"| {k[3:]} | {cells} | {v['min_cosine_vs_torch']} |")
    print("\n(sentences/s)")


if __name__ == "__main__":
    tables(load())
    inproc()
