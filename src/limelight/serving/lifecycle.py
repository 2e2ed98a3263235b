"""Start and stop of serving inside the app: the engine, the gRPC listener, metrics, the request log.

``install(app)`` (in ``create_app``) adds the inference routes and the ASGI fast path;
``start(state)`` / ``stop(state)`` (in the lifespan) build and release everything else.

Shutdown order: on SIGTERM readiness drops at once (``/readyz``, ``/v2/health/ready`` and gRPC
``ServerReady`` answer not-ready) before uvicorn stops accepting connections; uvicorn then lets
in-flight HTTP requests finish within ``server.graceful_shutdown_s``, and ``stop`` gives gRPC calls
the same grace, then drains every batcher and unloads the models.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from limelight.config import Settings
    from limelight.monitoring.recorder import RollupRecorder
    from limelight.server.state import AppState
    from limelight.serving.engine import ServingEngine
    from limelight.serving.ports import ExposureLog, ItemLog, KeyAuthenticator, ModelDirectory, UsageMeter
    from limelight.serving.shedding import InflightGate

__all__ = ["ServingHandle", "install", "start", "stop"]

log = logging.getLogger(__name__)
_GAUGE_PERIOD_S = 1.0


@dataclass
class ServingHandle:
    engine: ServingEngine
    recorder: RollupRecorder
    grpc_server: Any = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def install(app: FastAPI) -> None:
    """The inference routers, and the fast path as the outermost middleware (call after the others)."""
    from limelight.serving.protocols import openai, openai_chat, v1, v2_rest
    from limelight.serving.protocols.http import ServingFastPath

    app.include_router(v1.router)
    app.include_router(v2_rest.router)
    app.include_router(openai.router)
    app.include_router(openai_chat.router)
    app.add_middleware(ServingFastPath, endpoints=[*v1.ENDPOINTS, *v2_rest.ENDPOINTS, *openai.ENDPOINTS,
                                                      *openai_chat.ENDPOINTS])


async def start(state: AppState, *, directory: ModelDirectory, authenticate_key: KeyAuthenticator,
                exposures: ExposureLog | None = None, meter: UsageMeter | None = None,
                shown_items: ItemLog | None = None) -> ServingHandle:
    """Builds the engine on what the app factory hands it (where models and keys come from, where
    usage is metered)."""
    from limelight.serving.engine import ServingEngine
    from limelight.serving.ratelimit import InProcessRateLimiter, RateLimiter, RedisRateLimiter

    settings = state.settings
    metrics_dir = _multiprocess_dir(settings)  # before prometheus_client is imported
    from limelight.monitoring.recorder import RollupRecorder
    from limelight.monitoring.rollups import RollupBuffer
    from limelight.serving.metrics import ServingMetrics

    limiter: RateLimiter = RedisRateLimiter.from_url(settings.redis_url) if settings.redis_url else InProcessRateLimiter()
    rollups = RollupBuffer()
    engine = ServingEngine(state, ServingMetrics(metrics_dir, rollups), limiter, directory=directory,
                           authenticate_key=authenticate_key, exposures=exposures, meter=meter,
                           shown_items=shown_items)
    _configure_shedding(state.inflight, engine, settings.serving.max_inflight)
    handle = ServingHandle(engine, recorder=RollupRecorder(rollups, state.db, settings.monitoring))
    state.serving, state.serving_handle = engine, handle
    _configure_request_log()
    if settings.server.grpc_port:
        from limelight.server.transport import read_tls_files
        from limelight.serving.protocols.grpc_server import start_grpc_server

        handle.grpc_server = await start_grpc_server(engine, settings.server.host, settings.server.grpc_port,
                                                     settings.limits.max_json_body_bytes,
                                                     settings.serving.max_inflight, read_tls_files(settings))
    loop = asyncio.get_running_loop()
    handle.tasks += [loop.create_task(_record_gauges(engine)), loop.create_task(engine.refresh_forever()),
                     loop.create_task(handle.recorder.run_forever())]
    handle.tasks += [loop.create_task(sink.run_forever()) for sink in engine.sinks()]
    _drop_readiness_on_signals(state, engine)
    gc.freeze()  # what start-up built lives forever: keep it out of every full collection
    return handle


def _configure_shedding(gate: InflightGate, engine: ServingEngine, max_inflight: int) -> None:
    from limelight.serving.metrics import NO_MODEL

    gate.limit = max_inflight
    gate.on_refused = lambda: engine.metrics.rejected(NO_MODEL, "overloaded")


async def stop(state: AppState) -> None:
    handle, state.serving_handle = state.serving_handle, None
    if handle is None:
        return
    state.ready, handle.engine.draining = False, True
    if handle.grpc_server is not None:
        await handle.grpc_server.stop(state.settings.server.graceful_shutdown_s)
    for task in handle.tasks:
        task.cancel()
    await handle.engine.close()
    await handle.recorder.flush()  # the drained requests' counts too: a restart loses none
    for sink in handle.engine.sinks():  # the drained requests' exposures, usage and shown items too
        await sink.flush()
    handle.engine.metrics.close()
    log.warning("serving stopped: in-flight requests drained, models unloaded")


async def _record_gauges(engine: ServingEngine) -> None:
    while True:
        await asyncio.sleep(_GAUGE_PERIOD_S)
        try:
            engine.metrics.record_states(engine.version_states())
        except Exception as exc:  # noqa: BLE001 - metrics must never stop serving
            log.warning("recording serving gauges failed: %s", exc)


def _drop_readiness_on_signals(state: AppState, engine: ServingEngine) -> None:
    """Wrap uvicorn's SIGTERM/SIGINT handlers: mark not-ready first, then let uvicorn shut down."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def on_signal(signum: int, frame: Any, previous: Any = previous) -> None:
            state.ready, engine.draining = False, True
            log.warning("signal %d: readiness dropped, draining in-flight requests", signum)
            previous(signum, frame)

        try:
            signal.signal(sig, on_signal)
        except ValueError:  # not the main thread (an in-process test client): nothing to wrap
            return


def _multiprocess_dir(settings: Settings) -> Path | None:
    """Prometheus' multiprocess directory when several API processes share the port.

    ``limelight serve --workers N`` starts N processes with the same parent; they share
    ``home/run/prometheus-<parent pid>``. Directories of parents that are gone are removed.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        return Path(given)
    if settings.server.workers <= 1:
        return None
    if "prometheus_client" in sys.modules:
        log.warning("prometheus_client was imported before serving started; metrics are per process")
        return None
    from limelight.private_paths import make_private_dirs

    run_dir = Path(settings.home) / "run"
    path = run_dir / f"prometheus-{os.getppid()}"
    make_private_dirs(path)
    _remove_stale(run_dir, keep=path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _remove_stale(run_dir: Path, keep: Path) -> None:
    import shutil

    for path in run_dir.glob("prometheus-*"):
        pid = path.name.removeprefix("prometheus-")
        if path == keep or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass


def _configure_request_log() -> None:
    """The sampled request log: one JSON object per line on stderr (unless the host app set it up)."""
    request_log = logging.getLogger("limelight.requests")
    if request_log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    request_log.propagate = False
