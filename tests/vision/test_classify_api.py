"""Image classification through a real server: upload a tiny ONNX classifier (validated in the
sandbox), classify with base64 JSON, multipart files, ``:predict`` and KServe v2 BYTES (REST and
gRPC), and clear 4xx answers for everything a caller can get wrong."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.support.factories import error_code, new_tenant, ok
from tests.vision.models import (
    colour_classifier,
    colour_network,
    export_classifier,
    noise_picture,
    picture,
    png_bomb,
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _upload(client: httpx.Client, org: str, model: str, artifact: bytes) -> httpx.Response:
    ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": model, "task": "classify"}))
    return client.post(f"/api/v1/orgs/{org}/models/{model}/versions", files={"file": ("model.onnx", artifact)},
                       data={"meta": json.dumps({"runtime": "image-classifier"})})


@pytest.fixture(scope="module")
def vision_tenant(sqlite_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    tenant = new_tenant(sqlite_server)
    artifact = colour_classifier(tmp_path_factory.mktemp("vision-api") / "colours.onnx").read_bytes()
    with tenant.client() as client:
        tenant.version = ok(_upload(client, tenant.org, "colours", artifact))  # type: ignore[attr-defined]
    return tenant


def _classify(client: httpx.Client, org: str, **kwargs: object) -> httpx.Response:
    return client.post(f"/v1/models/{org}/colours:classify", **kwargs)  # type: ignore[arg-type]


def test_the_artifact_passed_the_sandbox_validator(vision_tenant) -> None:  # type: ignore[no-untyped-def]
    version = vision_tenant.version
    assert version["runtime"] == "image-classifier"
    assert version["validation"]["status"] == "passed", version
    assert version["validation"]["libraries"]["pillow"] != "absent"


def test_classify_base64_images_and_a_data_uri(vision_tenant) -> None:  # type: ignore[no-untyped-def]
    org = vision_tenant.org
    with vision_tenant.client() as client:
        many = ok(_classify(client, org, json={"images": [_b64(picture("red")), _b64(picture("blue", "JPEG"))]}))
        one = ok(_classify(client, org, json={"image": "data:image/png;base64," + _b64(picture("green")),
                                               "top_k": 1}))
    assert many["model"] == f"{org}/colours" and many["version"] == 1
    assert [p["label"] for p in many["predictions"]] == ["red", "blue"]
    assert len(many["predictions"][0]["labels"]) == 3 and many["predictions"][0]["score"] > 0.9
    [green] = one["predictions"]
    assert green["label"] == "green" and [entry["label"] for entry in green["labels"]] == ["green"]


def test_classify_multipart_files(vision_tenant) -> None:  # type: ignore[no-untyped-def]
    files = [("images", ("a.png", picture("blue"), "image/png")), ("images", ("b.jpg", picture("red", "JPEG"), "image/jpeg"))]
    with vision_tenant.client() as client:
        many = ok(_classify(client, vision_tenant.org, files=files, data={"top_k": "2"}))
        one = ok(_classify(client, vision_tenant.org, files={"image": ("c.webp", picture("green", "WEBP"))}))
    assert [p["label"] for p in many["predictions"]] == ["blue", "red"]
    assert all(len(p["labels"]) == 2 for p in many["predictions"])
    assert one["predictions"][0]["label"] == "green"


def test_predict_and_kserve_v2_bytes(vision_tenant) -> None:  # type: ignore[no-untyped-def]
    org = vision_tenant.org
    body = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2],
                        "data": [_b64(picture("green")), _b64(picture("red"))]}]}
    with vision_tenant.client() as client:
        metadata = ok(client.get(f"/v2/models/{org}.colours"))
        answer = ok(client.post(f"/v2/models/{org}.colours/infer", json=body))
        predicted = ok(client.post(f"/v1/models/{org}/colours:predict", json={"inputs": [_b64(picture("blue"))]}))
    assert metadata["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1]}]
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"]["data"] == ["green", "red"]
    assert outputs["score"]["datatype"] == "FP32" and outputs["score"]["data"][0] > 0.9
    assert json.loads(outputs["labels"]["data"][0])[0]["label"] == "green"
    assert predicted["outputs"][0]["label"] == "blue"


def test_grpc_takes_raw_image_bytes(vision_tenant, sqlite_server) -> None:  # type: ignore[no-untyped-def]
    grpcclient = pytest.importorskip("tritonclient.grpc")
    import numpy as np

    tensor = grpcclient.InferInput("image", [2], "BYTES")
    tensor.set_data_from_numpy(np.array([picture("red", "JPEG"), picture("blue")], dtype=object))
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sqlite_server.grpc_port}")
    try:
        result = client.infer(f"{vision_tenant.org}.colours", [tensor],
                              headers={"authorization": f"Bearer {vision_tenant.key}"})
    finally:
        client.close()
    assert [label.decode() for label in result.as_numpy("label")] == ["red", "blue"]


@pytest.mark.parametrize(("images", "status", "code", "reason"), [
    ([picture("red"), b"this is not a picture"], 422, "image_invalid", "not_an_image"),
    ([picture("red"), png_bomb()], 413, "image_too_large", "too_many_pixels"),
    ([picture("red"), picture("red", "JPEG", size=(300, 200))[:400]], 422, "image_invalid", None),
])
def test_a_refused_picture_is_named_by_its_index(vision_tenant, images, status, code, reason) -> None:  # type: ignore[no-untyped-def]
    with vision_tenant.client() as client:
        response = _classify(client, vision_tenant.org, json={"images": [_b64(i) for i in images]})
        after = ok(_classify(client, vision_tenant.org, json={"image": _b64(picture("blue"))}))
    assert response.status_code == status, response.text
    assert error_code(response) == code
    details = response.json()["error"]["details"]
    assert details["index"] == 1
    if reason is not None:
        assert details["reason"] == reason
    assert after["predictions"][0]["label"] == "blue"  # the server and its decoders carry on


@pytest.mark.parametrize(("body", "field"), [
    ({"images": []}, "images"),
    ({"images": [_b64(picture("red"))] * 65}, "images"),
    ({"image": "not base64 at all!"}, "image"),
    ({"images": [_b64(picture("red")), 7]}, "images[1]"),
    ({"image": _b64(picture("red")), "images": [_b64(picture("red"))]}, "images"),
    ({"image": _b64(picture("red")), "top_k": 0}, "top_k"),
    ({"image": _b64(picture("red")), "top_k": 4}, "top_k"),
    ({"image": _b64(picture("red")), "colour": "red"}, "colour"),
])
def test_bad_requests_get_422_naming_the_field(vision_tenant, body, field) -> None:  # type: ignore[no-untyped-def]
    with vision_tenant.client() as client:
        response = _classify(client, vision_tenant.org, json=body)
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_failed"
    assert response.json()["error"]["details"]["field"] == field


def test_a_body_over_the_limit_is_413_with_the_limit(vision_tenant) -> None:  # type: ignore[no-untyped-def]
    huge = "A" * (9 << 20)
    with vision_tenant.client() as client:
        response = _classify(client, vision_tenant.org, content=json.dumps({"image": huge}),
                             headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert response.json()["error"]["details"]["max_bytes"] == 8 << 20


def test_another_tenant_gets_404(vision_tenant, sqlite_server) -> None:  # type: ignore[no-untyped-def]
    other = new_tenant(sqlite_server)
    with other.client() as client:
        response = _classify(client, vision_tenant.org, json={"image": _b64(picture("red"))})
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_an_onnx_model_without_the_manifest_is_refused(vision_tenant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bare = export_classifier(colour_network(3), tmp_path / "bare.onnx", None).read_bytes()
    with vision_tenant.client() as client:
        response = _upload(client, vision_tenant.org, "bare", bare)
    assert response.status_code == 422, response.text
    assert error_code(response) == "artifact_invalid"
    assert "limelight.image-classifier" in response.text


def test_a_versions_own_byte_limit_is_a_413_naming_the_picture(vision_tenant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    artifact = colour_classifier(tmp_path / "strict.onnx").read_bytes()
    big = noise_picture(size=(120, 90), fmt="PNG")
    org = vision_tenant.org
    with vision_tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "strict", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{org}/models/strict/versions", files={"file": ("m.onnx", artifact)},
                       data={"meta": json.dumps({"runtime": "image-classifier", "params": {"max_image_bytes": 4096}})}))
        small = ok(client.post(f"/v1/models/{org}/strict:classify", json={"image": _b64(picture("green"))}))
        refused = client.post(f"/v1/models/{org}/strict:classify", json={"images": [_b64(picture("red")), _b64(big)]})
    assert len(big) > 4096
    assert small["predictions"][0]["label"] == "green"
    assert refused.status_code == 413, refused.text
    assert error_code(refused) == "image_too_large"
    details = refused.json()["error"]["details"]
    assert (details["limit"], details["reason"], details["index"]) == (4096, "too_many_bytes", 1)
