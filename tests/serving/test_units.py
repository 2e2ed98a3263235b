"""The serving glue without HTTP: tensor conversion, verb registry, version choice, the gRPC messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from limelight.errors import BadRequest, NotFound, ValidationFailed
from limelight.serving.engine import _pick, _Snapshot
from limelight.serving.protocols.tensors import (
    decode_bytes_elements,
    encode_bytes_elements,
    items_from_tensors,
    outputs_to_tensors,
    tensor_bytes,
    tensor_from_data,
    tensor_from_raw,
    tensor_json,
)
from limelight.serving.protocols.v1 import version_and_alias
from limelight.serving.routing import Router
from limelight.serving.verb_registry import default_verbs
from limelight.verbs import Served, VerbHandler, VersionKey

ROWS_SIG = {"inputs": [{"name": "features", "dtype": "float64", "shape": [-1, 3]}],
            "outputs": [{"name": "probabilities", "dtype": "float64", "shape": [-1, 2]}]}


def test_rows_tensor_becomes_one_item_per_row() -> None:
    tensor = tensor_from_data(0, "features", "FP32", [2, 3], [[1, 2, 3], [4, 5, 6]])
    assert items_from_tensors(ROWS_SIG, [tensor]) == [[1, 2, 3], [4, 5, 6]]
    raw = np.arange(6, dtype="<f8").tobytes()
    assert items_from_tensors(ROWS_SIG, [tensor_from_raw(0, "features", "FP64", [2, 3], raw)]) == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(("name", "datatype", "shape", "data", "field"), [
    ("features", "FP32", [2, 3], [1, 2, 3], "inputs[0].shape"),  # too little data
    ("features", "FP32", [1, 2], [1, 2], "inputs[0].shape"),  # the model takes 3 columns
    ("features", "BYTES", [1, 3], ["a", "b", "c"], "inputs[0].datatype"),
    ("other", "FP32", [1, 3], [1, 2, 3], "inputs[0].name"),
    ("features", "FP17", [1, 3], [1, 2, 3], "inputs[0].datatype"),
    ("features", "FP32", [1, -3], [1, 2, 3], "inputs[0].shape"),
])
def test_bad_tensors_name_the_field(name: str, datatype: str, shape: list[int], data: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        items_from_tensors(ROWS_SIG, [tensor_from_data(0, name, datatype, shape, data)])
    assert caught.value.details["field"] == field and caught.value.message.startswith(field)


def test_bytes_tensors_round_trip_and_truncation_is_refused() -> None:
    elements = [b"hello", b"", "héllo".encode()]
    raw = encode_bytes_elements(elements)
    assert decode_bytes_elements(raw, "x") == elements
    with pytest.raises(ValidationFailed):
        decode_bytes_elements(raw[:-1], "x")
    text_sig = {"inputs": [{"name": "text", "dtype": "string", "shape": [-1]}]}
    assert items_from_tensors(text_sig, [tensor_from_raw(0, "text", "BYTES", [3], raw)]) == ["hello", "", "héllo"]


def test_outputs_stack_into_tensors_json_or_binary() -> None:
    (tensor,) = outputs_to_tensors(ROWS_SIG, [[0.25, 0.75], [1.0, 0.0]], None)
    assert tensor.shape == (2, 2) and tensor.datatype == "FP64"
    head, raw = tensor_json(tensor, binary=False)
    assert head["data"] == [0.25, 0.75, 1.0, 0.0] and raw is None
    head, raw = tensor_json(tensor, binary=True)
    assert head["parameters"]["binary_data_size"] == 32 and np.frombuffer(raw, "<f8").tolist() == [0.25, 0.75, 1.0, 0.0]
    with pytest.raises(ValidationFailed):
        outputs_to_tensors(ROWS_SIG, [[0.5, 0.5]], ["nope"])


def test_outputs_without_numeric_form_travel_as_json_bytes() -> None:
    sig = {"outputs": [{"name": "items", "dtype": "object"}, {"name": "fallback", "dtype": "bool"}]}
    outputs = [{"items": [{"item_id": "a", "score": 1.0}], "fallback": False}]
    items, fallback = outputs_to_tensors(sig, outputs, None)
    assert items.datatype == "BYTES" and tensor_bytes(items).endswith(b'[{"item_id":"a","score":1.0}]')
    assert fallback.datatype == "BOOL" and fallback.values.tolist() == [False]


def test_verb_registry_dispatches_by_runtime_and_providers_override() -> None:
    registry = default_verbs()
    assert registry.lookup("predict", "onnx").verb == "predict"
    assert registry.lookup("embed", "sentence-embedding").verb == "embed"
    with pytest.raises(NotFound) as caught:
        registry.lookup("embed", "sklearn")
    assert "predict" in caught.value.details["supported"]
    mine = VerbHandler("predict", parse=lambda body: [body], respond=lambda outs, body, served: {"mine": True},
                       runtimes=frozenset({"onnx"}))
    registry.register(mine)
    assert registry.lookup("predict", "onnx") is mine and registry.lookup("predict", "sklearn") is not mine
    served = Served(VersionKey("acme", "m", 3), "onnx")
    assert served.model_ref == "acme/m" and served.version == 3


def test_version_choice_order() -> None:
    snap = _Snapshot(fetched_at=0, found=True, aliases={"production": 2, "staging": 3}, latest=3,
                     runtimes={1: "onnx", 2: "onnx", 3: "onnx"})
    assert _pick(snap, "o", "m", 1, None, None, None) == (1, None, None)
    assert _pick(snap, "o", "m", None, "staging", None, None) == (3, None, None)
    assert _pick(snap, "o", "m", None, None, None, None) == (2, None, None)  # production
    with pytest.raises(NotFound):
        _pick(snap, "o", "m", None, "canary", None, None)
    latest_only = _Snapshot(fetched_at=0, found=True, latest=3, runtimes={3: "onnx"})
    assert _pick(latest_only, "o", "m", None, None, None, None) == (3, None, None)
    with pytest.raises(NotFound):
        _pick(_Snapshot(fetched_at=0, found=True), "o", "m", None, None, None, None)


def test_deployment_routes_win_and_stick_by_key() -> None:
    from limelight.schemas.registry import DeploymentSpec, Route

    spec = DeploymentSpec(routes=[Route(version=1, weight=50), Route(version=2, weight=50)], sticky_field="viewer")
    snap = _Snapshot(fetched_at=0, found=True, aliases={"production": 1}, latest=2, runtimes={1: "a", 2: "a"},
                     spec=spec, router=Router("o/m", spec.routes))
    by_body = [_pick(snap, "o", "m", None, None, None, {"viewer": f"u{i}"})[0] for i in range(50)]
    by_header = [_pick(snap, "o", "m", None, None, f"u{i}", None)[0] for i in range(50)]
    assert by_body == by_header and set(by_body) == {1, 2}


def test_an_experiment_splits_before_the_deployment_and_names_the_variant() -> None:
    from limelight.experiments.stats import assign_variant
    from limelight.schemas.registry import DeploymentSpec, Route
    from limelight.serving.engine import _splitter
    from limelight.serving.ports import ExperimentSplit

    spec = DeploymentSpec(routes=[Route(version=1, weight=100)])
    # an A/A test: both variants serve version 2, told apart only by the variant's name
    split = ExperimentSplit(id="e1", variants=("a", "b", "gone"), versions=(2, 2, 3), weights=(1.0, 1.0, 0.0))
    snap = _Snapshot(fetched_at=0, found=True, aliases={"production": 1}, latest=3, runtimes={1: "x", 2: "x", 3: "x"},
                     spec=spec, router=Router("o/m", spec.routes), experiment=split, splitter=_splitter(split))
    picks = [_pick(snap, "o", "m", None, None, None, {"user_id": f"u{i}"}) for i in range(200)]
    assert {version for version, _, _ in picks} == {2}  # never the deployment's 1, never the rolled-back 3
    arms = [arm for _, _, arm in picks]
    assert all(arm is not None and arm.experiment_id == "e1" for arm in arms)
    assert {arm.variant for arm in arms if arm} == {"a", "b"}
    assert [arm.variant for arm in arms if arm] == [("a", "b", "gone")[assign_variant("e1", f"u{i}", [1, 1, 0])]
                                                   for i in range(200)]
    assert _pick(snap, "o", "m", None, "production", None, None) == (1, None, None)  # an explicit alias wins
    assert snap.default_versions() == {2}  # what a refresh preloads: not the rolled-back variant's version
    assert _splitter(ExperimentSplit(id="e2", variants=("a",), versions=(1,), weights=(0.0,))) is None


def test_version_and_alias_query() -> None:
    assert version_and_alias({}) == (None, None)
    assert version_and_alias({"version": "3"}) == (3, None)
    assert version_and_alias({"alias": "canary"}) == (None, "canary")
    with pytest.raises(ValidationFailed):
        version_and_alias({"version": "0"})
    with pytest.raises(BadRequest):
        version_and_alias({"version": "1", "alias": "x"})


def test_the_grpc_protocol_is_compiled_from_the_proto() -> None:
    pytest.importorskip("tritonclient.grpc")  # its stubs hold the same names in the default pool: no clash
    from tritonclient.grpc import service_pb2 as triton

    from limelight.serving.protocols.grpc_v2 import pb, rpc_handler

    request = pb.ModelInferRequest(model_name="studio.m", inputs=[{"name": "x", "datatype": "FP32", "shape": [1]}])
    theirs = triton.ModelInferRequest.FromString(request.SerializeToString())  # the same wire format
    assert theirs.model_name == "studio.m" and list(theirs.inputs[0].shape) == [1]

    class Live:
        async def ServerLive(self, request: object, context: object) -> object:  # noqa: N802
            return pb.ServerLiveResponse(live=True)

    with pytest.raises(AttributeError, match="ServerReady"):  # every rpc of the service needs a method
        rpc_handler(Live())
