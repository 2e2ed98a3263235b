"""Backpressure through a real server: a full queue answers 503 with Retry-After, a request that
waits past its deadline answers 504, both counted as rejections in /metrics."""

from __future__ import annotations

import socket
import threading
import time

import httpx

from tests.serving.conftest import add_onnx_versions, create_model, metric_value, predict, put_deployment
from tests.support.factories import Tenant, error_code, ok
from tests.support.live_server import start_live_server

ROW = [1.0, 0.0, 0.0]


def test_full_queue_is_503_with_retry_after(tenant: Tenant) -> None:
    model = create_model(tenant)
    add_onnx_versions(model, 1)
    # one queued request fills the queue; it waits up to 1 s for company before running
    put_deployment(model, routes=[{"version": 1, "weight": 1}], max_wait_ms=1000, max_batch_size=64, max_queue=1)
    with model.client() as client:
        ok(predict(client, model, [ROW]))  # loaded, with this batching
        first: list[int] = []
        holder = threading.Thread(target=lambda: first.append(predict(model.client(), model, [ROW]).status_code))
        holder.start()
        time.sleep(0.3)
        started = time.monotonic()
        refused = predict(client, model, [ROW])
        refused_s = time.monotonic() - started
        holder.join()
        text = model.tenant.server.scrape()
    assert refused.status_code == 503 and error_code(refused) == "overloaded"
    assert int(refused.headers["retry-after"]) >= 1 and refused_s < 0.5  # refused at once, not queued
    assert first == [200]
    assert metric_value(text, "limelight_rejected_requests_total", model=f"{model.org}/{model.name}",
                        reason="queue_full") >= 1


def test_request_past_its_deadline_is_504(tenant: Tenant) -> None:
    model = create_model(tenant)
    add_onnx_versions(model, 1)
    put_deployment(model, routes=[{"version": 1, "weight": 1}], max_wait_ms=1000, max_batch_size=64, timeout_ms=150)
    with model.client() as client:
        predict(client, model, [ROW])  # the first call may also spend its deadline loading the model
        started = time.monotonic()
        late = predict(client, model, [ROW])
        elapsed_s = time.monotonic() - started
        text = model.tenant.server.scrape()
    assert late.status_code == 504 and error_code(late) == "deadline_exceeded"
    assert 0.14 < elapsed_s < 0.9
    assert metric_value(text, "limelight_rejected_requests_total", model=f"{model.org}/{model.name}",
                        reason="deadline") >= 1


def test_requests_past_max_inflight_are_refused_before_any_work(tmp_path) -> None:
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_SERVING__MAX_INFLIGHT="2")
    path = "/v1/models/studio/nothing-here:predict"
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    try:
        held = [_hold_request(live.url, path, live.admin_key) for _ in range(2)]  # both wait for their bodies
        time.sleep(0.3)
        with httpx.Client(base_url=live.url, headers=headers, timeout=5) as client:
            started = time.monotonic()
            refused = client.post(path, json={"inputs": [ROW]})
            refused_s = time.monotonic() - started
            refused_v2 = client.post("/v2/models/studio.nothing-here/infer", json={"inputs": []})
            live_probe = client.get("/v2/health/live")
            for sock in held:
                sock.close()
            time.sleep(0.3)
            after = client.post(path, json={"inputs": [ROW]})
            text = live.scrape()
    finally:
        live.stop()
    assert refused.status_code == 503 and error_code(refused) == "overloaded", refused.text
    assert int(refused.headers["retry-after"]) >= 1 and refused_s < 0.5
    assert refused_v2.status_code == 503 and refused_v2.json()["code"] == "overloaded"
    assert isinstance(refused_v2.json()["error"], str)  # the KServe v2 error shape
    assert live_probe.status_code == 200  # probes are never shed
    # the same keep-alive connection is admitted again once the two held requests ended
    assert after.status_code == 404 and error_code(after) == "not_found"
    assert metric_value(text, "limelight_rejected_requests_total", reason="overloaded") >= 2


def _hold_request(url: str, path: str, key: str) -> socket.socket:
    """An inference request whose body never finishes arriving: it stays in flight until closed."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"inputs\"".encode())
    return sock
