"""A corpus of crafted artifacts, per format: what an attacker or a broken exporter uploads.

Every case is built here from a real, valid file of its format and then damaged the way a hostile
file is (truncated, oversized headers, negative and huge counts, wrong dtypes, NaN weights, a
pickle under an allowed extension). A case says what the platform must do with it: refuse it with
a 4xx (``refused``) or accept it and serve it correctly (``served``, with an input to try).
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.support.factories import lightgbm_model_bytes, skops_model_bytes


@dataclass(frozen=True)
class Crafted:
    name: str
    family: str  # the format it pretends to be
    filename: str
    build: Callable[[], bytes]
    runtime: str
    expect: str  # "refused" or "served"
    params: dict[str, Any] = field(default_factory=dict)
    sample: Any = None  # an input for a "served" case


# ---- LightGBM text -----------------------------------------------------------------------------

def _lgb_edit(old: str, new: str, count: int = 1) -> Callable[[], bytes]:
    def build() -> bytes:
        text = lightgbm_model_bytes().decode()
        assert old in text, old
        return text.replace(old, new, count).encode()
    return build


def _lgb_first_tree_line(key: str, value: str) -> Callable[[], bytes]:
    """The first tree's ``key`` set to ``value``; without ``tree_sizes`` LightGBM parses the trees
    in sequence, so the edit is read as written rather than failing the size bookkeeping."""
    def build() -> bytes:
        lines = [line for line in lightgbm_model_bytes().decode().split("\n") if not line.startswith("tree_sizes=")]
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}="))
        lines[index] = f"{key}={value}"
        return "\n".join(lines).encode()
    return build


def _lgb_truncated() -> bytes:
    text = lightgbm_model_bytes()
    return text[: len(text) // 2]


def _lgb_tree_count() -> bytes:
    lines = lightgbm_model_bytes().decode().split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("tree_sizes="))
    lines[index] += " 100 100"
    return "\n".join(lines).encode()


LIGHTGBM = [
    Crafted("lightgbm-valid", "lightgbm", "model.txt", lightgbm_model_bytes, "lightgbm", "served",
            sample=[0.2, 0.7, 0.1]),
    Crafted("lightgbm-truncated", "lightgbm", "model.txt", _lgb_truncated, "lightgbm", "refused"),
    Crafted("lightgbm-negative-num-leaves", "lightgbm", "model.txt", _lgb_first_tree_line("num_leaves", "-5"),
            "lightgbm", "refused"),
    Crafted("lightgbm-huge-num-leaves", "lightgbm", "model.txt",
            _lgb_first_tree_line("num_leaves", "2000000000"), "lightgbm", "refused"),
    Crafted("lightgbm-split-feature-out-of-range", "lightgbm", "model.txt",
            _lgb_first_tree_line("split_feature", "999999 0 0"), "lightgbm", "refused"),
    Crafted("lightgbm-inconsistent-tree-count", "lightgbm", "model.txt", _lgb_tree_count, "lightgbm", "refused"),
    Crafted("lightgbm-child-out-of-range", "lightgbm", "model.txt", _lgb_first_tree_line("left_child", "7 -2 -3"),
            "lightgbm", "refused"),
    Crafted("lightgbm-child-self-loop", "lightgbm", "model.txt", _lgb_first_tree_line("left_child", "0 -2 -3"),
            "lightgbm", "refused"),
    Crafted("lightgbm-nan-leaf-values", "lightgbm", "model.txt",
            _lgb_first_tree_line("leaf_value", "nan nan nan nan"), "lightgbm", "refused"),
    Crafted("lightgbm-negative-max-feature-idx", "lightgbm", "model.txt",
            _lgb_edit("max_feature_idx=2", "max_feature_idx=-7"), "lightgbm", "refused"),
    Crafted("lightgbm-wrong-runtime", "lightgbm", "model.txt", lightgbm_model_bytes, "onnx", "refused"),
]


# ---- ONNX --------------------------------------------------------------------------------------

def _onnx_model(weight: float = 1.0, dims: tuple[int, ...] = (2,), dtype: int | None = None,
                raw: bytes | None = None) -> bytes:
    from onnx import TensorProto, helper

    constant = TensorProto(name="w", data_type=TensorProto.FLOAT if dtype is None else dtype, dims=list(dims))
    if raw is not None:  # as written: a crafted file need not agree with its own dims
        constant.raw_data = raw
    else:
        constant.float_data.extend([weight] * int(np.prod(dims)))
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["y"])], "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        initializer=[constant],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="crafted")
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _onnx_truncated() -> bytes:
    data = _onnx_model()
    return data[: len(data) - 20]


def _onnx_huge_dims() -> bytes:
    return _onnx_model(dims=(1 << 31, 1 << 31), raw=b"\x00" * 8)


def _onnx_wrong_dtype() -> bytes:
    from onnx import TensorProto

    return _onnx_model(dtype=TensorProto.INT64, raw=struct.pack("<2q", 1, 2))


def _onnx_endless_loop() -> bytes:
    """A valid model whose graph runs a Loop for 2**62 iterations: it loads, then never answers."""
    from onnx import TensorProto, helper

    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Identity", ["v_in"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [None, 2])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)], "endless",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        initializer=[helper.make_tensor("trips", TensorProto.INT64, [], [1 << 62]),
                     helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="crafted")
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _onnx_garbage_after_header() -> bytes:
    return b"\x08\x08" + b"\xff" * 4096


ONNX = [
    Crafted("onnx-valid", "onnx", "model.onnx", _onnx_model, "onnx", "served", sample=[1.5, -2.0]),
    Crafted("onnx-truncated", "onnx", "model.onnx", _onnx_truncated, "onnx", "refused"),
    Crafted("onnx-garbage-protobuf", "onnx", "model.onnx", _onnx_garbage_after_header, "onnx", "refused"),
    Crafted("onnx-nan-weights", "onnx", "model.onnx", lambda: _onnx_model(weight=float("nan")), "onnx", "refused"),
    Crafted("onnx-huge-dims", "onnx", "model.onnx", _onnx_huge_dims, "onnx", "refused"),
    Crafted("onnx-wrong-dtype", "onnx", "model.onnx", _onnx_wrong_dtype, "onnx", "refused"),
    Crafted("onnx-endless-loop", "onnx", "model.onnx", _onnx_endless_loop, "onnx", "refused"),
]


# ---- safetensors -------------------------------------------------------------------------------

def _safetensors(header: dict[str, Any], body: bytes, declared_length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", declared_length if declared_length is not None else len(text)) + text + body


def _st_valid_small() -> bytes:
    return _safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, b"\x00" * 16)


SAFETENSORS = [
    Crafted("safetensors-oversized-header", "safetensors", "model.safetensors",
            lambda: _safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 4,
                                 declared_length=(1 << 62)), "sentence-embedding", "refused"),
    Crafted("safetensors-offsets-past-end", "safetensors", "model.safetensors",
            lambda: _safetensors({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}, b"\x00" * 16),
            "sentence-embedding", "refused"),
    Crafted("safetensors-negative-shape", "safetensors", "model.safetensors",
            lambda: _safetensors({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, b"\x00" * 16),
            "sentence-embedding", "refused"),
    Crafted("safetensors-unknown-dtype", "safetensors", "model.safetensors",
            lambda: _safetensors({"w": {"dtype": "X99", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 16),
            "sentence-embedding", "refused"),
    Crafted("safetensors-not-the-base-model", "safetensors", "model.safetensors", _st_valid_small,
            "sentence-embedding", "refused", params={"engine": "torch"}),
    Crafted("safetensors-truncated", "safetensors", "model.safetensors", lambda: _st_valid_small()[:-9],
            "sentence-embedding", "refused"),
]


# ---- NumPy -------------------------------------------------------------------------------------

def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_huge_shape() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": (9_999_999_999_999,)})
    return buffer.getvalue() + b"\x00" * 16


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _npz_object_member() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("weights.npy", _npy(np.zeros(2)).replace(b"'<f8'", b"'|O'"))
    return buffer.getvalue()


NUMPY = [
    Crafted("npy-huge-shape", "npy", "weights.npy", _npy_huge_shape, "recommender", "refused"),
    Crafted("npy-truncated", "npy", "weights.npy", lambda: _npy(np.arange(100.0))[:-50], "recommender", "refused"),
    Crafted("npy-valid-but-no-runtime-serves-it", "npy", "weights.npy", lambda: _npy(np.arange(4.0)),
            "recommender", "refused"),
    Crafted("npz-object-dtype", "npz", "weights.npz", _npz_object_member, "recommender", "refused"),
    Crafted("npz-not-a-recommender", "npz", "weights.npz",
            lambda: _npz({"weights": np.full(4, np.nan)}), "recommender", "refused"),
]


# ---- skops -------------------------------------------------------------------------------------

def _skops_tree() -> bytes:
    import skops.io as sio
    from sklearn.tree import DecisionTreeClassifier

    x = np.random.default_rng(1).random((40, 2))
    return bytes(sio.dumps(DecisionTreeClassifier(max_depth=3).fit(x, x[:, 1] > 0.5)))


def _skops_with_schema(edit: Callable[[dict[str, Any]], None]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(skops_model_bytes()))
    schema = json.loads(source.read("schema.json"))
    edit(schema)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = json.dumps(schema).encode() if info.filename == "schema.json" else source.read(info)
            archive.writestr(info.filename, data)
    return buffer.getvalue()


def _untrusted_function(schema: dict[str, Any]) -> None:
    schema["__class__"], schema["__module__"] = "system", "os"


SKOPS = [
    Crafted("skops-valid-logistic", "skops", "model.skops", skops_model_bytes, "sklearn", "served",
            sample=[0.1, -0.4, 1.2]),
    Crafted("skops-valid-decision-tree", "skops", "model.skops", _skops_tree, "sklearn", "served",
            sample=[0.3, 0.9]),
    Crafted("skops-truncated", "skops", "model.skops", lambda: skops_model_bytes()[:200], "sklearn", "refused"),
    Crafted("skops-untrusted-callable", "skops", "model.skops", lambda: _skops_with_schema(_untrusted_function),
            "sklearn", "refused"),
    Crafted("skops-schema-not-json", "skops", "model.skops",
            lambda: _skops_with_schema(lambda s: s.update({"protocol": float("nan")})), "sklearn", "refused"),
]


# ---- a pickle under every allowed extension ----------------------------------------------------

class _Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("pickle executed",))


def _pickle() -> bytes:
    return pickle.dumps(_Payload(), protocol=4)


PICKLES = [
    Crafted(f"pickle-as-{ext}", "pickle", f"model.{ext}", _pickle, runtime, "refused")
    for ext, runtime in (("safetensors", "sentence-embedding"), ("onnx", "onnx"), ("txt", "lightgbm"),
                         ("skops", "sklearn"), ("npy", "recommender"), ("npz", "recommender"), ("json", "onnx"))
]

CORPUS: list[Crafted] = [*LIGHTGBM, *ONNX, *SAFETENSORS, *NUMPY, *SKOPS, *PICKLES]
