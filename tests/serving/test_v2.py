"""KServe v2 through a real server with the official tritonclient (HTTP and gRPC), and the error
mapping to gRPC status codes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.serving.conftest import (
    Served,
    add_onnx_versions,
    create_model,
    predict,
    put_deployment,
    skops_bytes,
)
from tests.support.factories import Tenant, ok, register_unvalidated_version
from tests.support.live_server import LiveServer

httpclient = pytest.importorskip("tritonclient.http")
grpcclient = pytest.importorskip("tritonclient.grpc")
from tritonclient.utils import InferenceServerException  # noqa: E402

X = np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32)


def ref(model: Served) -> str:
    return f"{model.org}.{model.name}"


def auth(tenant: Tenant) -> dict[str, str]:
    return {"authorization": f"Bearer {tenant.key}"}


@pytest.fixture(scope="module")
def http(sqlite_server: LiveServer):  # type: ignore[no-untyped-def]
    client = httpclient.InferenceServerClient(sqlite_server.url.removeprefix("http://"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def grpc(sqlite_server: LiveServer):  # type: ignore[no-untyped-def]
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sqlite_server.grpc_port}")
    yield client
    client.close()


def test_http_health_metadata_and_infer_binary_and_json(http, onnx_model: Served, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    assert http.is_server_live() and http.is_server_ready()
    meta = http.get_model_metadata(ref(onnx_model), headers=auth(tenant))
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 3]}]
    assert meta["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}] and meta["versions"] == ["1", "2"]
    assert http.is_model_ready(ref(onnx_model), "1", headers=auth(tenant))
    for binary in (True, False):
        tensor = httpclient.InferInput("x", list(X.shape), "FP32")
        tensor.set_data_from_numpy(X, binary_data=binary)
        wanted = [httpclient.InferRequestedOutput("y", binary_data=binary)]
        result = http.infer(ref(onnx_model), [tensor], model_version="1", outputs=wanted, headers=auth(tenant))
        np.testing.assert_allclose(result.as_numpy("y"), [[1, -1], [1, 2]])
    result = http.infer(ref(onnx_model), [tensor], model_version="2", headers=auth(tenant))  # no outputs named
    np.testing.assert_allclose(result.as_numpy("y"), [[2, -2], [1, 2]])


def test_http_infer_on_a_sklearn_model_and_errors(http, sklearn_model: Served, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    rows = np.array([[0.1, 0.2, 0.3]], dtype=np.float64)
    tensor = httpclient.InferInput("features", [1, 3], "FP64")
    tensor.set_data_from_numpy(rows)
    probabilities = http.infer(ref(sklearn_model), [tensor], headers=auth(tenant)).as_numpy("probabilities")
    assert probabilities.shape == (1, 2) and abs(probabilities.sum() - 1) < 1e-9
    wrong = httpclient.InferInput("features", [1, 2], "FP64")
    wrong.set_data_from_numpy(rows[:, :2])
    with pytest.raises(InferenceServerException) as caught:
        http.infer(ref(sklearn_model), [wrong], headers=auth(tenant))
    assert caught.value.status() == "422" and "inputs[0].shape" in str(caught.value)
    with pytest.raises(InferenceServerException) as caught:
        http.infer(f"{sklearn_model.org}.nope", [tensor], headers=auth(tenant))
    assert caught.value.status() == "404"
    with pytest.raises(InferenceServerException) as caught:
        http.infer(ref(sklearn_model), [tensor])
    assert caught.value.status() == "401"


def test_grpc_health_metadata_and_infer(grpc, onnx_model: Served, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    assert grpc.is_server_live() and grpc.is_server_ready()
    meta = grpc.get_model_metadata(ref(onnx_model), headers=auth(tenant), as_json=True)
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": ["-1", "3"]}]
    assert grpc.is_model_ready(ref(onnx_model), "2", headers=auth(tenant))
    tensor = grpcclient.InferInput("x", list(X.shape), "FP32")
    tensor.set_data_from_numpy(X)
    result = grpc.infer(ref(onnx_model), [tensor], model_version="1", headers=auth(tenant))
    np.testing.assert_allclose(result.as_numpy("y"), [[1, -1], [1, 2]])
    assert result.get_response().model_version == "1"


def _grpc_status(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InferenceServerException) as caught:
        call()
    return str(caught.value.status())


def test_grpc_errors_map_to_status_codes(grpc, onnx_model: Served, tenant: Tenant, reader: Tenant,  # type: ignore[no-untyped-def]
                                         sqlite_server: LiveServer) -> None:
    tensor = grpcclient.InferInput("x", list(X.shape), "FP32")
    tensor.set_data_from_numpy(X)
    bad = grpcclient.InferInput("x", [1, 2], "FP32")
    bad.set_data_from_numpy(X[:1, :2])
    infer = grpc.infer
    assert _grpc_status(lambda: infer(f"{tenant.org}.nope", [tensor], headers=auth(tenant))) == "StatusCode.NOT_FOUND"
    assert _grpc_status(lambda: infer(ref(onnx_model), [tensor])) == "StatusCode.UNAUTHENTICATED"
    assert _grpc_status(lambda: infer(ref(onnx_model), [tensor], headers=auth(reader))) == "StatusCode.PERMISSION_DENIED"
    assert _grpc_status(lambda: infer(ref(onnx_model), [bad], headers=auth(tenant))) == "StatusCode.INVALID_ARGUMENT"
    broken = create_model(tenant)
    register_unvalidated_version(tenant.server, tenant.org, broken.name, skops_bytes(), runtime="onnx", fmt="skops")
    assert _grpc_status(lambda: infer(ref(broken), [tensor], headers=auth(tenant))) == "StatusCode.UNAVAILABLE"

    slow = create_model(tenant)  # waits 1 s for company, times out after 100 ms
    add_onnx_versions(slow, 1)
    put_deployment(slow, routes=[{"version": 1, "weight": 1}], max_wait_ms=1000, max_batch_size=64, timeout_ms=100)
    assert _grpc_status(lambda: infer(ref(slow), [tensor], headers=auth(tenant))) == "StatusCode.DEADLINE_EXCEEDED"

    full = create_model(tenant)  # one queued request fills it
    add_onnx_versions(full, 1)
    put_deployment(full, routes=[{"version": 1, "weight": 1}], max_wait_ms=1000, max_batch_size=64, max_queue=1)
    with full.client() as client:
        ok(predict(client, full, [[1, 0, 0]]))  # loaded, with this batching
        holder = threading.Thread(target=lambda: predict(full.client(), full, [[1, 0, 0]]))
        holder.start()
        time.sleep(0.3)
        one = grpcclient.InferInput("x", [1, 3], "FP32")
        one.set_data_from_numpy(X[:1])
        assert _grpc_status(lambda: infer(ref(full), [one], headers=auth(tenant))) == "StatusCode.UNAVAILABLE"
        holder.join()
