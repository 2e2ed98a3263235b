"""The native protocol through a real server: versions, aliases, verbs, auth, tenancy, bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.serving.conftest import (
    Served,
    add_version,
    create_model,
    predict,
    set_alias,
    skops_bytes,
)
from tests.support.factories import Tenant, error_code, ok, register_unvalidated_version
from tests.support.live_server import ADMIN_PASSWORD, LiveServer

ROW = [1.0, 0.0, 0.0]


def test_predict_answers_with_the_version_in_body_and_header(sklearn_model: Served) -> None:
    with sklearn_model.client() as client:
        response = predict(client, sklearn_model, [[0.1, 0.2, 0.3], [-2, 0, 1]], headers={"X-Request-Id": "req-42"})
    body = ok(response)
    assert body["model"] == f"{sklearn_model.org}/{sklearn_model.name}" and body["version"] == 1
    assert len(body["outputs"]) == 2 and all(abs(sum(p) - 1) < 1e-9 for p in body["outputs"])
    assert response.headers["limelight-model-version"] == "1"
    assert response.headers["x-request-id"] == "req-42"


def test_version_alias_and_default_resolution(onnx_model: Served) -> None:
    with onnx_model.client() as client:
        assert ok(predict(client, onnx_model, [ROW]))["version"] == 2  # no alias yet: latest
        set_alias(onnx_model, "production", 1)
        set_alias(onnx_model, "staging", 2)
        assert ok(client.post(f"{onnx_model.path}:predict?version=2", json={"inputs": [ROW]}))["outputs"] == [[2, -2]]
        assert ok(client.post(f"{onnx_model.path}:predict?alias=staging", json={"inputs": [ROW]}))["version"] == 2
        # the alias cache is read again at once on a miss, but a moved alias may take up to 1 s
        assert _eventually(lambda: ok(predict(client, onnx_model, [ROW]))["version"] == 1)


def _eventually(check, timeout_s: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("suffix", "message"), [
    (":predict?version=9", "Version 9"), (":predict?alias=nope", "Alias 'nope'"), (":explode", "Unknown verb"),
    (":embed", "not available for onnx"),
])
def test_unknown_version_alias_or_verb_is_404(onnx_model: Served, suffix: str, message: str) -> None:
    with onnx_model.client() as client:
        response = client.post(onnx_model.path + suffix, json={"inputs": [ROW]})
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert message in response.json()["error"]["message"]


def test_unknown_model_is_404(onnx_model: Served) -> None:
    with onnx_model.client() as client:
        response = client.post(f"/v1/models/{onnx_model.org}/no-such-model:predict", json={"inputs": [ROW]})
    assert response.status_code == 404 and error_code(response) == "not_found"


@pytest.mark.parametrize(("inputs", "field"), [
    ([[1.0, 2.0]], "features"), ([[1.0, "x", 3.0]], "features[1]"), ([[1.0, None, 3.0]], "features[1]"),
    ([], "inputs"), ("not-a-list", "inputs"),
])
def test_bad_input_is_422_naming_the_field(sklearn_model: Served, inputs: object, field: str) -> None:
    with sklearn_model.client() as client:
        response = client.post(f"{sklearn_model.path}:predict", json={"inputs": inputs})
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_failed" and response.json()["error"]["details"]["field"] == field


def test_malformed_json_and_bad_version_query_are_422(sklearn_model: Served) -> None:
    with sklearn_model.client() as client:
        bad_json = client.post(f"{sklearn_model.path}:predict", content=b"{not json")
        bad_version = client.post(f"{sklearn_model.path}:predict?version=x", json={"inputs": [ROW]})
    assert bad_json.status_code == 422 and bad_json.json()["error"]["details"]["field"] == "body"
    assert bad_version.status_code == 422 and bad_version.json()["error"]["details"]["field"] == "version"


def test_auth_is_required_and_scoped(sqlite_server: LiveServer, sklearn_model: Served, reader: Tenant) -> None:
    with sqlite_server.anonymous() as anon:
        missing = predict(anon, sklearn_model, [ROW])
        wrong = predict(anon, sklearn_model, [ROW], headers={"Authorization": "Bearer ll_nonsense"})
        scheme = predict(anon, sklearn_model, [ROW], headers={"Authorization": "Basic abc"})
    assert [r.status_code for r in (missing, wrong, scheme)] == [401, 401, 401]
    assert wrong.headers["www-authenticate"] == "Bearer" and error_code(wrong) == "unauthenticated"
    with reader.client() as client:  # a key without the predict scope
        assert predict(client, sklearn_model, [ROW]).status_code == 403


def test_private_models_of_other_orgs_are_404_public_ones_callable(tenant: Tenant, stranger: Tenant,
                                                                   reader: Tenant) -> None:
    private = create_model(tenant)
    public = create_model(tenant, visibility="public")
    for model in (private, public):
        add_version(model, skops_bytes(), {"runtime": "sklearn"})
    with stranger.client() as client:
        hidden = predict(client, private, [ROW])
        shown = predict(client, public, [ROW])
    assert hidden.status_code == 404 and "not found" in hidden.json()["error"]["message"]
    assert shown.status_code == 200 and shown.json()["model"] == f"{tenant.org}/{public.name}"
    with reader.client() as client:
        assert predict(client, public, [ROW]).status_code == 403  # public, but no predict scope


def test_session_callers_go_through_the_fastapi_route_with_csrf(sqlite_server: LiveServer, sklearn_model: Served) -> None:
    with httpx.Client(base_url=sqlite_server.url, timeout=30) as browser:
        login = ok(browser.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                             "org": sklearn_model.org}))
        no_csrf = predict(browser, sklearn_model, [ROW])
        with_csrf = predict(browser, sklearn_model, [ROW], headers={"X-CSRF-Token": login["csrf_token"]})
    assert no_csrf.status_code == 403
    assert with_csrf.status_code == 200 and with_csrf.headers["limelight-model-version"] == "1"


def test_a_model_that_fails_to_load_is_503_with_the_reason_and_no_traceback(tenant: Tenant) -> None:
    model = create_model(tenant)
    # A skops file is no ONNX model: refused at upload, so it is registered as a job would do it.
    register_unvalidated_version(tenant.server, tenant.org, model.name, skops_bytes(), runtime="onnx", fmt="skops")
    with model.client() as client:
        response = predict(client, model, [ROW])
        again = predict(client, model, [ROW])  # within the back-off: no second load, same answer
    assert response.status_code == 503 and error_code(response) == "model_unavailable"
    details = response.json()["error"]["details"]
    assert "ONNX" in details["reason"] and "Traceback" not in response.text and 'File "' not in response.text
    assert again.status_code == 503 and again.json()["error"]["details"]["retry_in_s"] > 0


def test_onnx_versions_answer_batches(onnx_model: Served) -> None:
    with onnx_model.client() as client:
        body = ok(client.post(f"{onnx_model.path}:predict?version=1", json={"inputs": [ROW, [0, 0, 1], [2, 0, 0]]}))
    assert body["outputs"] == [[1, -1], [1, 2], [2, -2]]


def test_sentence_embedding_from_weights_only_version(tenant: Tenant) -> None:
    """The packaged MiniLM weights as a registry version (runtime sentence-embedding, torch engine)."""
    pytest.importorskip("torch")
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    model = create_model(tenant, task="embed")
    weights = (bundled_minilm_dir() / "model.safetensors").read_bytes()
    add_version(model, weights, {"runtime": "sentence-embedding",
                                 "params": {"engine": "torch", "base": "all-minilm-l6-v2"}})
    with model.client() as client:
        response = client.post(f"{model.path}:embed", json={"inputs": ["a quiet film", "a loud film"]})
        wrong = client.post(f"{model.path}:embed", json={"inputs": [42]})
    body = ok(response)
    assert len(body["embeddings"]) == 2 and len(body["embeddings"][0]) == 384
    assert abs(sum(x * x for x in body["embeddings"][0]) - 1) < 1e-4  # unit length
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "text"
