"""Pieces of the SDK that need no server: error decoding, SSE decoding, settings."""

from __future__ import annotations

import io

import httpx
import pytest
from httpx_sse import ServerSentEvent

from limelight.client import Client
from limelight.client._errors import error_from_response
from limelight.client._inference import stream_event
from limelight.client._upload import ProgressReader
from limelight.errors import LimelightError, NotFound, Overloaded, RateLimited


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": "m", "details": {"a": 1}, "request_id": "rid-1"}}
    return httpx.Response(status, json=body, headers=headers)


def test_rate_limited_carries_retry_after_seconds() -> None:
    error = error_from_response(_error(429, "rate_limited", {"Retry-After": "7"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 7.0
    assert (error.request_id, error.details, error.message) == ("rid-1", {"a": 1}, "m")  # type: ignore[attr-defined]


def test_overloaded_503_maps_back_with_its_retry_after() -> None:
    error = error_from_response(_error(503, "overloaded", {"Retry-After": "2"}))
    assert isinstance(error, Overloaded) and error.retry_after_s == 2.0


def test_unknown_code_falls_back_to_the_class_of_the_status_and_keeps_the_wire_code() -> None:
    error = error_from_response(_error(404, "model_gone"))
    assert type(error) is NotFound
    assert error.wire_code == "model_gone"  # type: ignore[attr-defined]


def test_a_non_json_error_page_still_raises_with_its_text() -> None:
    response = httpx.Response(502, text="<html>Bad gateway from the proxy</html>", headers={"x-request-id": "p-9"})
    error = error_from_response(response)
    assert type(error) is LimelightError
    assert "502" in error.message and "Bad gateway" in error.message
    assert error.request_id == "p-9" and error.http_status == 502  # type: ignore[attr-defined]


def test_a_streamed_error_event_is_raised_as_its_own_class_and_done_is_skipped() -> None:
    assert stream_event(ServerSentEvent(data="[DONE]")) is None
    assert stream_event(ServerSentEvent(data='{"event": "delta", "text": "hi"}')) == {"event": "delta", "text": "hi"}
    error = '{"error": {"code": "overloaded", "status": 503, "message": "busy", "details": {"a": 1}}}'
    with pytest.raises(Overloaded) as raised:
        stream_event(ServerSentEvent(data=error))
    assert raised.value.details == {"a": 1}


def test_progress_reader_counts_what_is_read_and_restarts_on_rewind() -> None:
    calls: list[tuple[int, int | None]] = []
    reader = ProgressReader(io.BytesIO(b"x" * 10), lambda sent, total: calls.append((sent, total)))
    reader.read(4)
    reader.seek(0)
    reader.read(6)
    reader.read(6)
    assert calls == [(4, 10), (6, 10), (10, 10)]


def test_settings_come_from_the_environment_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMELIGHT_URL", "http://models.example:9000/")
    monkeypatch.setenv("LIMELIGHT_API_KEY", "ll_env")
    with Client() as client:
        assert client.base_url == "http://models.example:9000"
        assert client.api_key == "ll_env"
        assert "ll_env" not in repr(client)
    with Client("http://other:1", api_key="") as client:  # "" opts out of the environment's key
        assert client.base_url == "http://other:1" and client.api_key == ""
        assert "authorization" not in client._http.headers


def test_transport_is_used_and_requests_are_built_as_the_contract_says() -> None:
    """Request shapes the server cannot echo back: encoded segments, dropped None parameters, headers."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"outputs": [1], "model": "a/b", "version": 3})

    with Client("http://server.test", "ll_key", transport=httpx.MockTransport(answer)) as client:
        client.predict("studio/recs", [[1.0]], alias="canary")
        client.invoke("studio/recs", "classify", {"inputs": ["hello"]}, version=3)
    predict, classify = seen
    assert (predict.method, predict.url.path, dict(predict.url.params)) == (
        "POST", "/v1/models/studio/recs:predict", {"alias": "canary"})
    assert predict.headers["authorization"] == "Bearer ll_key"
    assert predict.headers["user-agent"].startswith("limelight-sdk/")
    assert (classify.url.path, dict(classify.url.params)) == ("/v1/models/studio/recs:classify", {"version": "3"})
    assert classify.content == b'{"inputs":["hello"]}'
