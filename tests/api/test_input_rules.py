"""One set of input rules on every route: finite numbers, strict booleans, closed schemas, 413 for
any oversized body (chunked or sized), and one rule for JSON bodies with or without Content-Type."""

from __future__ import annotations

import pytest

from tests.support.factories import error_code, new_tenant, ok, unique


@pytest.fixture(scope="module")
def tenant(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def _event(**extra: object) -> dict:  # type: ignore[type-arg]
    return {"event_id": unique("e"), "user_id": "u1", "item_id": "i1", "type": "rate", **extra}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["value", "timestamp"])
def test_non_finite_numbers_in_events_get_422_and_nothing_is_stored(tenant, database_rows, number, field):
    event_id = unique("nonfinite")
    raw = (f'{{"events": [{{"event_id": "{event_id}", "user_id": "u1", "item_id": "i1", "type": "rate", '
           f'"{field}": {number}}}]}}')
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", content=raw.encode(),
                               headers={"content-type": "application/json"})
    assert response.status_code == 422 and error_code(response) == "validation_failed", response.text
    stored = database_rows(tenant.server, "SELECT count(*) FROM events WHERE event_id = :e", e=event_id)
    assert stored[0][0] == 0


def test_non_finite_numbers_inside_free_form_params_get_422(tenant):
    raw = b'{"recipe": "recommend/als", "dataset": "x", "model": "m", "params": {"regularization": 1e400}}'
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/jobs", content=raw,
                               headers={"content-type": "application/json"})
    assert response.status_code == 422 and error_code(response) == "validation_failed"


def test_non_finite_number_in_inference_inputs_gets_422(tenant):
    with tenant.client() as client:
        response = client.post(f"/v1/models/{tenant.org}/nothing:predict", content=b'{"inputs": [[1e400]]}',
                               headers={"content-type": "application/json"})
    assert response.status_code == 422 and error_code(response) == "validation_failed"


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_booleans_are_strict(server, value):
    with server.client() as admin:
        response = admin.post("/api/v1/users", json={"username": unique("bool"), "password": "p" * 12,
                                                      "is_admin": value})
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert "is_admin" in response.text


def test_strict_booleans_still_take_true_and_false(tenant):
    name = unique("m")
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": name, "task": "recommend"}))
        updated = ok(client.patch(f"/api/v1/orgs/{tenant.org}/models/{name}", json={"archived": True}))
        refused = client.patch(f"/api/v1/orgs/{tenant.org}/models/{name}", json={"archived": 1})
    assert updated["archived"] is True
    assert refused.status_code == 422


@pytest.mark.parametrize("params", [{"include_live_events": 0}, {"holdout_fraction": "NaN"},
                                    {"include_live_events": True, "colour": "red"}])
def test_recipe_params_are_strict_finite_and_closed(tenant, params):
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/jobs", json={
            "recipe": "recommend/popularity", "dataset": "views", "model": "m", "params": params})
    assert response.status_code == 400 and error_code(response) == "invalid_params", response.text
    assert next(iter(params if "colour" not in params else {"colour": 0})) in response.text


def test_unknown_fields_are_refused(tenant):
    with tenant.client() as client:
        response = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": [_event(colour="red")]})
    assert response.status_code == 422 and "colour" in response.text


def test_chunked_body_over_the_limit_gets_413_like_a_sized_one(tenant):
    limit = 8 << 20
    piece = b" " * (1 << 20)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"events": ['
        for _ in range(limit // len(piece) + 2):
            yield piece
        yield b"]}"

    with tenant.client() as client:
        chunked = client.post(f"/api/v1/orgs/{tenant.org}/events", content=chunks(),
                              headers={"content-type": "application/json"})
        sized = client.post(f"/api/v1/orgs/{tenant.org}/events", content=b"".join(chunks()),
                            headers={"content-type": "application/json"})
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413 and error_code(chunked) == "payload_too_large", chunked.text
    assert sized.status_code == 413 and error_code(sized) == "payload_too_large"


def test_chunked_form_body_over_the_limit_gets_413(server):
    def chunks():  # type: ignore[no-untyped-def]
        for n in range(100):  # fields under the form parser's own per-field limit, 10 MB in all
            yield b"f%d=" % n + b"x" * (100 << 10) + b"&"

    with server.anonymous() as client:  # the console's sign-in form: a real form route
        response = client.post("/login", content=chunks(),
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and error_code(response) == "payload_too_large", response.text


@pytest.mark.parametrize("path", ["/api/v1/orgs/{org}/events", "/v1/models/{org}/nothing:recommend"])
def test_a_json_body_without_content_type_is_json_on_every_route(tenant, path):
    body = b'{"events": [{"event_id": "%s", "user_id": "u1", "item_id": "i1", "type": "play"}]}' % (
        unique("noct").encode())
    if path.startswith("/v1"):
        body = b'{"user_id": "u1", "k": 2}'
    with tenant.client() as client:
        request = client.build_request("POST", path.format(org=tenant.org), content=body)
        request.headers.pop("content-type", None)
        response = client.send(request)
    assert "content-type" not in request.headers
    if path.startswith("/api"):
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
    else:  # parsed and authorised: the model does not exist
        assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/api/v1/orgs/{org}/events", "/v1/models/{org}/nothing:recommend"])
def test_a_declared_non_json_type_gets_415_on_every_route(tenant, path):
    with tenant.client() as client:
        response = client.post(path.format(org=tenant.org), content=b'{"events": []}',
                               headers={"content-type": "text/plain"})
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type", response.text
    assert "application/json" in response.json()["error"]["message"]


def test_json_with_a_charset_or_a_plus_json_type_is_json(tenant):
    with tenant.client() as client:
        for content_type in ("application/json; charset=utf-8", "application/vnd.limelight+json"):
            response = client.post(f"/api/v1/orgs/{tenant.org}/events", json=None,
                                   content=b'{"events": [{"event_id": "%s", "user_id": "u", "item_id": "i", '
                                           b'"type": "view"}]}' % unique("ct").encode(),
                                   headers={"content-type": content_type})
            assert response.status_code == 200, (content_type, response.text)


@pytest.mark.parametrize("path", ["/api/v1/orgs/{org}/events", "/v1/models/{org}/nothing:recommend"])
def test_curl_default_form_label_on_a_json_body_reads_as_json_on_every_route(tenant, path):
    """``curl -d '{…}'`` labels its body application/x-www-form-urlencoded: the API reads it as JSON."""
    body = b'{"events": [{"event_id": "%s", "user_id": "u1", "item_id": "i1", "type": "play"}]}' % (
        unique("curl").encode())
    if path.startswith("/v1"):
        body = b'{"user_id": "u1", "k": 2}'
    with tenant.client() as client:
        response = client.post(path.format(org=tenant.org), content=body,
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == (200 if path.startswith("/api") else 404), response.text
