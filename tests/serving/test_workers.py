"""`limelight serve --workers 2` with Redis: limits and metrics hold across API processes; the body
size limit, the sampled request log and gRPC's RESOURCE_EXHAUSTED on the same server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.serving.conftest import Served, add_version, create_model, metric_value, skops_bytes
from tests.support.factories import Tenant, error_code, new_tenant
from tests.support.live_server import LiveServer, start_live_server

REDIS = ("127.0.0.1", 6379)
RATE_PER_S, BURST = 5, 10
ROW = [0.1, 0.2, 0.3]


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable at 127.0.0.1:6379")


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("serving-workers")
    live = start_live_server(
        home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_SERVER__WORKERS="2",
        LIMELIGHT_REDIS_URL=f"redis://{REDIS[0]}:{REDIS[1]}/0", LIMELIGHT_WORKER__PROCESSES="0",
        LIMELIGHT_LIMITS__RATE_LIMIT_PER_KEY_PER_S=str(RATE_PER_S), LIMELIGHT_LIMITS__RATE_LIMIT_BURST=str(BURST),
        LIMELIGHT_LIMITS__MAX_JSON_BODY_BYTES="4096", LIMELIGHT_SERVER__REQUEST_LOG_SAMPLE_RATE="1.0")
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def admin_model(workers_server: LiveServer) -> Served:
    model = create_model(Tenant(workers_server.org, workers_server.admin_user, workers_server.admin_key,
                                workers_server))
    add_version(model, skops_bytes(), {"runtime": "sklearn"})
    return model


def _fresh_connection_post(url: str, key: str, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    # a new connection per call, so the kernel spreads calls over both processes
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_metrics_are_merged_across_workers(workers_server: LiveServer, admin_model: Served) -> None:
    url = f"{workers_server.url}{admin_model.path}:predict"
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: _fresh_connection_post(url, workers_server.admin_key,
                                                                  {"inputs": [ROW]}).status_code, range(8)))
    assert statuses == [200] * 8
    ref = f"{admin_model.org}/{admin_model.name}"
    for _ in range(4):  # whichever process answers the scrape reports both processes' counts
        text = workers_server.scrape()
        assert metric_value(text, "limelight_requests_total", model=ref, route="v1:predict", status="200") == 8


def test_rate_limits_are_shared_across_workers(workers_server: LiveServer) -> None:
    tenant = new_tenant(workers_server)
    model = create_model(tenant)
    add_version(model, skops_bytes(), {"runtime": "sklearn"})
    url = f"{workers_server.url}{model.path}:predict"
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: _fresh_connection_post(url, tenant.key, {"inputs": [ROW]}), range(40)))
    elapsed_s = time.monotonic() - started
    served = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(served) + len(limited) == 40
    # one bucket for both processes: never more than the burst plus the refill (two buckets: up to 2x)
    assert BURST <= len(served) <= BURST + RATE_PER_S * elapsed_s + 1, (len(served), elapsed_s)
    assert error_code(limited[0]) == "rate_limited" and int(limited[0].headers["retry-after"]) >= 1
    pids = _logged_pids(workers_server.home, tenant.org)
    assert len(pids) == 2, "both API processes answered"
    assert f'"request_id":"{limited[0].headers["x-request-id"]}"' in (workers_server.home / "server.log").read_text()
    _assert_grpc_resource_exhausted(workers_server, tenant, model)


def _logged_pids(home: Path, org: str) -> set[int]:
    lines = [json.loads(line) for line in (home / "server.log").read_text().splitlines() if line.startswith('{"ts"')]
    return {line["pid"] for line in lines if line.get("org") == org}


def _assert_grpc_resource_exhausted(live: LiveServer, tenant: Tenant, model: Served) -> None:
    grpcclient = pytest.importorskip("tritonclient.grpc")
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(f"127.0.0.1:{live.grpc_port}")
    tensor = grpcclient.InferInput("features", [1, 3], "FP64")
    tensor.set_data_from_numpy(np.array([ROW]))
    statuses = set()
    try:
        for _ in range(3 * BURST):
            try:
                client.infer(f"{model.org}.{model.name}", [tensor], headers={"authorization": f"Bearer {tenant.key}"})
            except InferenceServerException as exc:
                statuses.add(str(exc.status()))
                break
    finally:
        client.close()
    assert statuses == {"StatusCode.RESOURCE_EXHAUSTED"}


def test_bodies_over_the_limit_are_413(workers_server: LiveServer, admin_model: Served) -> None:
    response = _fresh_connection_post(f"{workers_server.url}{admin_model.path}:predict", workers_server.admin_key,
                                      {"inputs": [ROW] * 400})
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
