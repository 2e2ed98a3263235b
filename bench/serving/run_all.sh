#!/usr/bin/env bash
# Full sweep, one system at a time: W1 and W2 for every system, then in-process limits.
# Usage: ./run_all.sh [extra bench.py args, e.g. --duration 20]
set -u
cd "$(dirname "$0")"
for s in fastapi asgi bentoml mlflow litserve ray limelight; do python3 bench.py "$s" w1 "$@"; done
for s in fastapi asgi bentoml mlflow litserve ray asgi_batch limelight limelight:torch; do python3 bench.py "$s" w2 "$@"; done
/tmp/perf-venvs/base/bin/python inproc.py
python3 report.py
