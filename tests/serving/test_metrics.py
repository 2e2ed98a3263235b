"""/metrics through a real server: who may read it, and what it says."""

from __future__ import annotations

from pathlib import Path

from tests.serving.conftest import Served, metric_value, predict
from tests.support.factories import Tenant, error_code, ok
from tests.support.live_server import METRICS_TOKEN, LiveServer, start_live_server


def test_only_the_scrape_token_opens_metrics(sqlite_server: LiveServer, reader: Tenant, tenant: Tenant) -> None:
    """No tenant key opens /metrics: not a reader's, not an org owner's admin key, not the system admin's."""
    with sqlite_server.anonymous() as anon:
        assert anon.get("/metrics").status_code == 401
        assert anon.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"}).status_code == 401
        assert anon.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
        scraped = anon.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for key in (reader.key, tenant.key, sqlite_server.admin_key):
        with sqlite_server.client(key) as client:
            refused = client.get("/metrics")
        assert refused.status_code == 401 and error_code(refused) == "unauthenticated"
        assert "limelight_" not in refused.text
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert METRICS_TOKEN not in sqlite_server.log_text()


def test_without_a_configured_token_metrics_refuse_everyone(tmp_path: Path) -> None:
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_SERVER__METRICS_TOKEN="")
    try:
        with live.client() as admin:
            assert admin.get("/metrics").status_code == 401
        with live.anonymous() as anon:
            assert anon.get("/metrics", headers={"Authorization": "Bearer"}).status_code == 401
    finally:
        live.stop()


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "scrape-token"
    token_file.write_text("from-a-file-" + "k" * 30 + "\n")
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_SERVER__METRICS_TOKEN="", LIMELIGHT_SERVER__METRICS_TOKEN_FILE=str(token_file))
    try:
        with live.anonymous() as anon:
            assert anon.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 401
            assert anon.get("/metrics", headers={"Authorization": "Bearer from-a-file-" + "k" * 30}).status_code == 200
    finally:
        live.stop()


def test_metrics_count_requests_batches_models_and_rejections(sklearn_model: Served) -> None:
    ref = f"{sklearn_model.org}/{sklearn_model.name}"
    scrape = sklearn_model.tenant.server.scrape
    with sklearn_model.client() as client:
        before = metric_value(scrape(), "limelight_requests_total", model=ref, route="v1:predict",
                              status="200", version="1")
        for _ in range(5):
            ok(predict(client, sklearn_model, [[0.1, 0.2, 0.3], [0.0, 0.0, 0.0]]))
        assert predict(client, sklearn_model, [[1.0]]).status_code == 422
        text = scrape()  # a scrape samples its process's gauges first: no waiting for the next second
    assert metric_value(text, "limelight_requests_total", model=ref, route="v1:predict", status="200",
                        version="1") == before + 5
    assert metric_value(text, "limelight_requests_total", model=ref, route="v1:predict", status="422") >= 1
    assert metric_value(text, "limelight_request_duration_seconds_count", model=ref, status="200") >= 5
    assert metric_value(text, "limelight_batch_size_sum", model=ref, version="1") >= 10  # items
    assert metric_value(text, "limelight_batch_size_count", model=ref, version="1") >= 1
    assert metric_value(text, "limelight_loaded_models", state="ready") >= 1
    assert metric_value(text, "limelight_model_load_seconds_count", model=ref, version="1") == 1
    assert "limelight_queue_depth{" in text and "limelight_rejected_requests_total" in text
