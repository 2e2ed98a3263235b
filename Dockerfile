# limelight: API, console and job workers in one image (the command picks the role).
#   docker build -t limelight .                                  # core + S3 artifact store
#   docker build --build-arg EXTRAS=s3,text,vision -t limelight .  # + text and image models (PyTorch CPU)
# The final stage has no compiler: wheels are built in `builder` and only the virtualenv is copied.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG EXTRAS=s3
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# DL3008 asks to pin apt package versions: Debian replaces them on every point release, so a pin
# breaks the build within weeks; the base image tag fixes the Debian release instead.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# torch is pinned in the extras; its CPU wheels come from PyTorch's index, never the CUDA build.
# DL3013 asks to pin what pip installs: this is the source tree itself, whose pins live in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu ".[${EXTRAS}]"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="limelight" \
      org.opencontainers.image.description="Self-hosted model-as-a-service for entertainment data" \
      org.opencontainers.image.licenses="Apache-2.0"
# libgomp: LightGBM's and implicit's OpenMP runtime (the only native library the wheels do not bundle).
# Not version-pinned for the same reason as in `builder` (DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --home-dir /var/lib/limelight --shell /usr/sbin/nologin limelight \
 && install -d -o limelight -g limelight -m 0700 /var/lib/limelight
COPY --from=builder /opt/venv /opt/venv
# Everything the process writes goes to LIMELIGHT_HOME (a volume) or /tmp: the root filesystem can
# be mounted read-only. No .pyc files are written at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    LIMELIGHT_HOME=/var/lib/limelight \
    LIMELIGHT_SERVER__HOST=0.0.0.0
USER 10001:10001
WORKDIR /var/lib/limelight
VOLUME ["/var/lib/limelight"]
EXPOSE 8000 8001
# GET /healthz with python's urllib (no curl here). In production mode the server answers only Host
# names in server.trusted_hosts, so the probe presents the first of them (or localhost).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import json, os, ssl, sys, urllib.request as u; e = os.environ.get; h = ([x for x in json.loads(e('LIMELIGHT_SERVER__TRUSTED_HOSTS') or '[]') if x != '*'] or ['localhost'])[0].replace('*.', 'probe.', 1); s = 'https' if e('LIMELIGHT_SERVER__SSL_CERTFILE') else 'http'; r = u.urlopen(u.Request(f'{s}://127.0.0.1:{e(\"LIMELIGHT_SERVER__PORT\") or 8000}/healthz', headers={'Host': h}), timeout=4, context=ssl._create_unverified_context()); sys.exit(r.status != 200)"]
ENTRYPOINT ["limelight"]
CMD ["serve"]
