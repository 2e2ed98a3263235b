"""Models and tenants for serving tests, registered through the management API of a real server.

Never import ``limelight.serving.protocols.grpc_server`` here: its generated stubs and
tritonclient's define the same ``inference.*`` protobuf messages and cannot share a process.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.support.factories import Tenant, new_tenant, ok, skops_model_bytes, unique
from tests.support.live_server import LiveServer


def matmul_onnx(weights: np.ndarray) -> bytes:
    """An ONNX model ``y = x @ weights`` (x: [batch, rows] float32): outputs tell versions apart."""
    from onnx import TensorProto, helper, numpy_helper

    rows, cols = weights.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, cols])],
        [numpy_helper.from_array(weights.astype(np.float32), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return bytes(model.SerializeToString())


def version_weights(version: int) -> np.ndarray:
    """Weights whose product with [1, 0, 0] is [version, -version]."""
    return np.array([[version, -version], [0.5, 0.5], [1.0, 2.0]], dtype=np.float32)


@dataclass
class Served:
    """A model of a tenant, reachable at ``/v1/models/{org}/{name}``."""

    tenant: Tenant
    name: str

    @property
    def org(self) -> str:
        return self.tenant.org

    @property
    def path(self) -> str:
        return f"/v1/models/{self.org}/{self.name}"

    def client(self) -> httpx.Client:
        return self.tenant.client()


def create_model(tenant: Tenant, task: str = "classify", visibility: str = "private", name: str | None = None) -> Served:
    name = name or unique("m")
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": name, "task": task,
                                                                  "visibility": visibility}))
    return Served(tenant, name)


def add_version(model: Served, data: bytes, meta: dict[str, Any]) -> int:
    with model.client() as client:
        created = ok(client.post(f"/api/v1/orgs/{model.org}/models/{model.name}/versions",
                                 files={"file": ("artifact", data)}, data={"meta": json.dumps(meta)}))
    return int(created["version"])


def add_onnx_versions(model: Served, count: int) -> None:
    for version in range(1, count + 1):
        assert add_version(model, matmul_onnx(version_weights(version)), {"runtime": "onnx"}) == version


def set_alias(model: Served, alias: str, version: int) -> None:
    with model.client() as client:
        ok(client.put(f"/api/v1/orgs/{model.org}/models/{model.name}/aliases/{alias}", json={"version": version}))


def put_deployment(model: Served, **spec: Any) -> None:
    with model.client() as client:
        ok(client.put(f"/api/v1/orgs/{model.org}/deployments/{model.name}", json=spec))


def predict(client: httpx.Client, model: Served, inputs: list[Any], **kwargs: Any) -> httpx.Response:
    return client.post(f"{model.path}:predict", json={"inputs": inputs}, **kwargs)


@pytest.fixture(scope="session")
def tenant(sqlite_server: LiveServer) -> Tenant:
    """An org owner with an admin key (tenants cost three argon2 logins each: share them)."""
    return new_tenant(sqlite_server)


@pytest.fixture(scope="session")
def stranger(sqlite_server: LiveServer) -> Tenant:
    """Another org, with read/predict/write keys."""
    return new_tenant(sqlite_server, role="member")


@pytest.fixture(scope="session")
def reader(sqlite_server: LiveServer) -> Tenant:
    """A viewer of yet another org whose key has only the read scope."""
    return new_tenant(sqlite_server, role="viewer", scopes=["read"])


@pytest.fixture(scope="session")
def sklearn_model(tenant: Tenant) -> Served:
    model = create_model(tenant)
    add_version(model, skops_bytes(), {"runtime": "sklearn"})
    return model


@functools.cache
def skops_bytes() -> bytes:
    """A 3-feature LogisticRegression in skops format (trained once per session)."""
    return skops_model_bytes()


@pytest.fixture(scope="session")
def onnx_model(tenant: Tenant) -> Served:
    """Two versions: version N answers [N, -N] to [1, 0, 0]."""
    model = create_model(tenant)
    add_onnx_versions(model, 2)
    return model


def metric_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def read_log(home: Path) -> str:
    path = home / "server.log"
    return path.read_text(errors="replace") if path.exists() else ""
