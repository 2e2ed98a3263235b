"""/metrics through a real server: who may read it, and what it says."""

from __future__ import annotations

import time

from tests.serving.conftest import Served, metric_value, predict
from tests.support.factories import Tenant, ok
from tests.support.live_server import LiveServer


def test_metrics_need_a_read_key(sqlite_server: LiveServer, reader: Tenant) -> None:
    with sqlite_server.anonymous() as anon:
        assert anon.get("/metrics").status_code == 401
    with reader.client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")


def test_metrics_count_requests_batches_models_and_rejections(sklearn_model: Served) -> None:
    ref = f"{sklearn_model.org}/{sklearn_model.name}"
    with sklearn_model.client() as client:
        before = metric_value(client.get("/metrics").text, "limelight_requests_total", model=ref, route="v1:predict",
                              status="200", version="1")
        for _ in range(5):
            ok(predict(client, sklearn_model, [[0.1, 0.2, 0.3], [0.0, 0.0, 0.0]]))
        assert predict(client, sklearn_model, [[1.0]]).status_code == 422
        time.sleep(1.2)  # gauges are sampled every second
        text = client.get("/metrics").text
    assert metric_value(text, "limelight_requests_total", model=ref, route="v1:predict", status="200",
                        version="1") == before + 5
    assert metric_value(text, "limelight_requests_total", model=ref, route="v1:predict", status="422") >= 1
    assert metric_value(text, "limelight_request_duration_seconds_count", model=ref, status="200") >= 5
    assert metric_value(text, "limelight_batch_size_sum", model=ref, version="1") >= 10  # items
    assert metric_value(text, "limelight_batch_size_count", model=ref, version="1") >= 1
    assert metric_value(text, "limelight_loaded_models", state="ready") >= 1
    assert metric_value(text, "limelight_model_load_seconds_count", model=ref, version="1") == 1
    assert "limelight_queue_depth{" in text and "limelight_rejected_requests_total" in text
