"""Graceful shutdown of a real server: on SIGTERM readiness drops first, in-flight requests finish."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import Served, add_onnx_versions, predict, put_deployment
from tests.support.factories import Tenant, ok
from tests.support.live_server import start_live_server

grpcclient = pytest.importorskip("tritonclient.grpc")
ROW = [1.0, 0.0, 0.0]


def test_sigterm_drops_readiness_and_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_SERVER__GRACEFUL_SHUTDOWN_S="10")
    try:
        model = Served(Tenant(live.org, live.admin_user, live.admin_key, live), "slow")
        with live.client() as client:
            ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "slow", "task": "classify"}))
        add_onnx_versions(model, 1)
        # every request waits up to 1 s for company: a window in which to send SIGTERM
        put_deployment(model, routes=[{"version": 1, "weight": 1}], max_wait_ms=1000, max_batch_size=64)
        with live.client() as client:
            ok(predict(client, model, [ROW]))
        statuses: list[int] = []

        def call() -> None:
            with live.client() as client:
                statuses.append(predict(client, model, [ROW]).status_code)

        callers = [threading.Thread(target=call) for _ in range(4)]
        for t in callers:
            t.start()
        time.sleep(0.3)
        os.kill(live.process.pid, signal.SIGTERM)
        time.sleep(0.2)
        grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{live.grpc_port}")
        try:
            assert grpc.is_server_live() and not grpc.is_server_ready()  # still serving, not ready
        finally:
            grpc.close()
        for t in callers:
            t.join(15)
        assert statuses == [200] * 4
        assert live.process.wait(15) in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{live.url}/healthz", timeout=2)
        log = live.log_text()
        assert log.index("readiness dropped") < log.index("serving stopped")
    finally:
        live.stop()
