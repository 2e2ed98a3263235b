from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from limelight.errors import UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes import load_runtime

W = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
B = np.array([0.5, -0.5, 1.0, 0.0], dtype=np.float32)


def _linear_model(batch_dim: str | int = "batch") -> onnx.ModelProto:
    """y = relu(x @ W + b), x: [batch, 3] float32 -> y: [batch, 4]."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["z"]),
            helper.make_node("Relu", ["z"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch_dim, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch_dim, 4])],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _two_input_model() -> onnx.ModelProto:
    """sum = a + b, prod = a * b (both [batch, 2] float32)."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["prod"])],
        "two",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 2]) for n in ("a", "b")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 2]) for n in ("sum", "prod")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _expected(x: np.ndarray) -> np.ndarray:
    return np.maximum(x @ W + B, 0)


def test_linear_model_round_trip(tmp_path: Path) -> None:
    onnx.save(_linear_model(), tmp_path / "m.onnx")
    rt = load_runtime("onnx", tmp_path / "m.onnx", {"threads": 1})
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    out = rt.predict_batch([rt.validate_input(r) for r in x.tolist()])
    np.testing.assert_allclose(out, _expected(x), rtol=1e-5)
    assert rt.signature() == {
        "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 3]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 4]}],
    }


def test_fixed_batch_of_one_runs_item_by_item(tmp_path: Path) -> None:
    onnx.save(_linear_model(batch_dim=1), tmp_path / "m.onnx")
    rt = load_runtime("onnx", tmp_path / "m.onnx", {})
    assert rt.max_batch_size == 1
    x = np.ones((3, 3), dtype=np.float32)
    np.testing.assert_allclose(
        rt.predict_batch([rt.validate_input(r) for r in x.tolist()]), _expected(x), rtol=1e-5
    )


def test_several_inputs_and_outputs(tmp_path: Path) -> None:
    onnx.save(_two_input_model(), tmp_path / "m.onnx")
    rt = load_runtime("onnx", tmp_path / "m.onnx", {})
    items = [rt.validate_input({"a": [1, 2], "b": [3.0, 4.0]}), rt.validate_input({"a": [0, 1], "b": [2, 2]})]
    assert rt.predict_batch(items) == [
        {"sum": [4.0, 6.0], "prod": [3.0, 8.0]},
        {"sum": [2.0, 3.0], "prod": [0.0, 2.0]},
    ]
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input({"a": [1, 2]})
    assert info.value.details["field"] == "b"


@pytest.mark.parametrize(
    ("item", "field"),
    [([1.0, 2.0], "x"), ([[1.0, 2.0, 3.0]], "x"), (["a", "b", "c"], "x"), ([1, [2], 3], "x")],
)
def test_wrong_inputs_name_the_field(tmp_path: Path, item: object, field: str) -> None:
    onnx.save(_linear_model(), tmp_path / "m.onnx")
    rt = load_runtime("onnx", tmp_path / "m.onnx", {})
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input(item)
    assert info.value.details["field"] == field


def test_external_data_is_refused(tmp_path: Path) -> None:
    model = _linear_model()
    onnx.save(
        model,
        tmp_path / "m.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    assert (tmp_path / "weights.bin").exists()
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("onnx", tmp_path / "m.onnx", {})


def test_external_data_escaping_the_directory_is_refused(tmp_path: Path) -> None:
    model = _linear_model()
    init = model.graph.initializer[0]
    init.ClearField("raw_data")
    init.data_location = TensorProto.EXTERNAL
    init.external_data.add(key="location", value="../../etc/passwd")
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("onnx", tmp_path / "m.onnx", {})


def test_garbage_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("onnx", tmp_path / "m.onnx", {})
