#!/usr/bin/env bash
# limelight side by side with the baselines and the best peers, in one session (~25 min):
# W1: raw ASGI ceiling, naive FastAPI, LitServe (best W1 peer), limelight;
# W2: greedy-batcher reference, BentoML (best W2 throughput), LitServe+fast_queue, limelight
# (ONNX Runtime engine) and limelight:torch; then the in-process limits; then the tables.
# Usage: ./run_limelight.sh [NOTE] [extra bench.py args]   (NOTE tags the runs for report.py)
set -u
cd "$(dirname "$0")"
NOTE=${1:-side-by-side-$(date +%Y%m%d-%H%M)}
shift || true
for s in asgi fastapi litserve limelight; do python3 bench.py "$s" w1 --note "$NOTE" "$@"; done
for s in asgi_batch bentoml litserve:fastqueue limelight limelight:torch; do
  python3 bench.py "$s" w2 --note "$NOTE" "$@"
done
/tmp/perf-venvs/base/bin/python inproc.py --seconds 6
python3 report.py --note "$NOTE"
