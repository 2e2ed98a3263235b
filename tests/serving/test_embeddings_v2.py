"""Sentence embeddings over KServe v2 (REST and gRPC, with tritonclient): a BYTES input of texts
gives the same vectors as ``:embed``."""

from __future__ import annotations

import numpy as np
import pytest

from tests.serving.conftest import Served, add_version, create_model
from tests.support.factories import MINILM_META, Tenant, minilm_weights, ok
from tests.support.live_server import LiveServer

httpclient = pytest.importorskip("tritonclient.http")
grpcclient = pytest.importorskip("tritonclient.grpc")
pytest.importorskip("torch")

TEXTS = ["a quiet film about a lighthouse", "loud", "ünïcode and emoji 🎬"]


@pytest.fixture(scope="module")
def minilm(tenant: Tenant) -> Served:
    model = create_model(tenant, task="embed")
    add_version(model, minilm_weights(), MINILM_META)
    return model


def expected(model: Served) -> np.ndarray:
    with model.client() as client:
        return np.array(ok(client.post(f"{model.path}:embed", json={"inputs": TEXTS}))["embeddings"])


def texts_tensor(module):  # type: ignore[no-untyped-def]
    tensor = module.InferInput("text", [len(TEXTS)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in TEXTS], dtype=object))
    return tensor


def test_v2_rest_binary_and_json(minilm: Served, sqlite_server: LiveServer) -> None:
    client = httpclient.InferenceServerClient(sqlite_server.url.removeprefix("http://"))
    headers = {"authorization": f"Bearer {minilm.tenant.key}"}
    ref = f"{minilm.org}.{minilm.name}"
    meta = client.get_model_metadata(ref, headers=headers)
    assert meta["inputs"][0]["datatype"] == "BYTES" and meta["outputs"][0]["shape"] == [-1, 384]
    binary = client.infer(ref, [texts_tensor(httpclient)], headers=headers).as_numpy("embedding")
    assert binary.shape == (3, 384) and binary.dtype == np.float32
    assert np.allclose(binary, expected(minilm), atol=1e-5)
    with minilm.client() as raw:  # plain JSON data, no binary extension
        body = ok(raw.post(f"/v2/models/{ref}/infer", json={"inputs": [
            {"name": "text", "datatype": "BYTES", "shape": [3], "data": TEXTS}]}))
    out = body["outputs"][0]
    assert out["datatype"] == "FP32" and out["shape"] == [3, 384]
    assert np.allclose(np.array(out["data"]).reshape(3, 384), binary, atol=1e-6)
    client.close()


def test_grpc(minilm: Served, sqlite_server: LiveServer) -> None:
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sqlite_server.grpc_port}")
    headers = {"authorization": f"Bearer {minilm.tenant.key}"}
    result = client.infer(f"{minilm.org}.{minilm.name}", [texts_tensor(grpcclient)], headers=headers)
    vectors = result.as_numpy("embedding")
    assert vectors.shape == (3, 384) and np.allclose(vectors, expected(minilm), atol=1e-5)
    client.close()
