"""The allowlist: every accepted format, from real files, plus the ways a valid-looking one is refused."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from limelight.artifacts import ALLOWED_FORMATS, FormatPolicy, detect_format
from limelight.artifacts.formats import MEDIA_TYPES
from limelight.errors import UnsafeArtifactFormat

from .samples import (
    ALLOWED_SAMPLES,
    make_json,
    make_lightgbm,
    make_safetensors,
    make_skops_tree,
    onnx_add_model,
)


def generated(kind: str, tmp_path: Path) -> Path:
    """Write a sample, then give it a meaningless name: detection must not need the extension."""
    written = ALLOWED_SAMPLES[kind](tmp_path / f"sample.{kind}")
    neutral = tmp_path / f"blob-{kind}"
    written.rename(neutral)
    return neutral


def refused(path: Path, *fragments: str, **kwargs: object) -> UnsafeArtifactFormat:
    with pytest.raises(UnsafeArtifactFormat) as caught:
        detect_format(path, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert error.status == 415 and error.code == "unsafe_artifact_format"
    assert "Allowed formats: safetensors, onnx, lightgbm, skops, npy, npz, json" in error.message
    for fragment in fragments:
        assert fragment in error.message
    return error


def test_the_allowlist_is_exactly_the_documented_one() -> None:
    assert ALLOWED_FORMATS == ("safetensors", "onnx", "lightgbm", "skops", "npy", "npz", "json", "gguf")
    assert set(MEDIA_TYPES) == set(ALLOWED_FORMATS)


@pytest.mark.parametrize("kind", sorted(ALLOWED_SAMPLES))
def test_each_allowed_format_is_accepted(kind: str, tmp_path: Path) -> None:
    path = generated(kind, tmp_path)
    found = detect_format(path)
    assert found.name == kind and found.media_type == MEDIA_TYPES[kind]
    json.dumps(found.details)  # details are plain data a registry row can store
    assert detect_format(path, declared=kind) == found
    assert detect_format(path, declared=f" {kind.upper()} ").name == kind
    assert detect_format(path, declared=MEDIA_TYPES[kind]).name == kind


@pytest.mark.parametrize("kind", sorted(ALLOWED_SAMPLES))
def test_a_declared_format_that_disagrees_is_refused(kind: str, tmp_path: Path) -> None:
    path = generated(kind, tmp_path)
    other = "onnx" if kind != "onnx" else "safetensors"
    error = refused(path, f"detected {kind}", "declared as", declared=other)
    assert error.details["declared"] == other
    refused(path, declared="pickle")


def test_details_describe_the_content(tmp_path: Path) -> None:
    tensors = detect_format(make_safetensors(tmp_path / "w")).details
    assert tensors["tensors"] == 3 and tensors["dtypes"] == ["F16", "F32", "I64"]
    assert tensors["metadata_keys"] == ["task"]
    booster = detect_format(make_lightgbm(tmp_path / "gbm.txt")).details
    assert (
        booster["trees"] == 3 and booster["num_features"] == 3 and booster["objective"].startswith("binary")
    )
    npz = detect_format(generated("npz", tmp_path)).details
    assert npz["arrays"]["user_factors"] == {"dtype": "<f8", "shape": [4, 2]}
    onnx_details = detect_format(generated("onnx", tmp_path)).details
    assert onnx_details["inputs"] == ["x", "y"] and onnx_details["opsets"] == {"ai.onnx": 17}


def test_skops_allowlisted_extra_types_are_reported(tmp_path: Path) -> None:
    found = detect_format(make_skops_tree(tmp_path / "tree.skops"))
    assert found.name == "skops" and found.details["allowlisted_types"] == ["sklearn.tree._tree.Tree"]
    strict = FormatPolicy(skops_trusted_types=frozenset())
    refused(tmp_path / "tree.skops", "outside the trusted allowlist", policy=strict)


# -- broken or hostile files that look like an allowed format ------------------------------------------


def _safetensors_bytes(header: dict[str, object], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize(
    ("header", "data", "reason"),
    [
        (
            {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
            b"\0" * 8,
            "outside the data buffer",
        ),
        ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8, "does not match"),
        ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "holes"),
        (
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
            },
            b"\0" * 8,
            "overlap",
        ),
        ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "no tensor describes"),
        ({"w": {"dtype": "PY_OBJECT", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "invalid header"),
        ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "invalid header"),
        ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}, b"\0" * 4, "invalid header"),
        ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    ],
)
def test_inconsistent_safetensors_are_refused(tmp_path: Path, header: dict, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_safetensors_bytes(header, data))
    refused(path, "safetensors", reason)


def test_safetensors_header_limit_and_truncation(tmp_path: Path) -> None:
    good = make_safetensors(tmp_path / "good")
    refused(good, "header larger than", policy=FormatPolicy(max_safetensors_header_bytes=16))
    truncated = tmp_path / "truncated"
    truncated.write_bytes(good.read_bytes()[:-3])
    refused(truncated, "safetensors")


def test_onnx_with_external_data_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [2], np.ones(2, np.float32).tobytes(), raw=True)
    model = onnx_add_model(initializer=[weight])
    saved = tmp_path / "external.onnx"
    onnx.save_model(model, str(saved), save_as_external_data=True, size_threshold=0, location="weights.bin")  # type: ignore[arg-type]
    assert (tmp_path / "weights.bin").exists()
    refused(saved, "external data")

    # CVE-2022-25882 shape: an external location that walks out of the model directory.
    hostile = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    hostile.ClearField("float_data")
    hostile.data_location = TensorProto.EXTERNAL
    entry = hostile.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    path = tmp_path / "traversal.onnx"
    path.write_bytes(onnx_add_model(initializer=[hostile]).SerializeToString())  # type: ignore[attr-defined]
    error = refused(path, "external data")
    assert error.details["tensor"] == "w"


def test_onnx_external_data_hidden_in_a_constant_node_is_refused(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    value = helper.make_tensor("c", TensorProto.FLOAT, [2], [1.0, 2.0])
    value.ClearField("float_data")
    entry = value.external_data.add()
    entry.key, entry.value = "location", "/etc/shadow"
    constant = helper.make_node("Constant", [], ["c"], value=value)
    graph = helper.make_graph(
        [constant, helper.make_node("Add", ["x", "c"], ["z"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "constant.onnx"
    path.write_bytes(model.SerializeToString())
    refused(path, "external data")


def test_bytes_that_only_start_like_onnx_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.onnx"
    path.write_bytes(b"\x08\x07" + b"\xff" * 64)
    refused(path, "onnx")
    empty_model = tmp_path / "empty.onnx"
    empty_model.write_bytes(b"\x08\x07")  # a ModelProto with only ir_version set
    refused(empty_model, "not a model")


def test_lightgbm_text_must_be_complete(tmp_path: Path) -> None:
    text = make_lightgbm(tmp_path / "m.txt").read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text(text.split("end of trees")[0])
    refused(cut, "lightgbm", "incomplete")
    unversioned = tmp_path / "unversioned.txt"
    unversioned.write_text(text.replace("version=v4", "release=4"))
    refused(unversioned, "lightgbm")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"tree\nversion=v4\n\xff\xfe")
    refused(binary, "not UTF-8")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"x": NaN}', "does not parse"),
        (b'{"x": 1} trailing', "does not parse"),
        (b'{"x": "\xff"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"\xef\xbb\xbf{}", "text"),  # a BOM is not the start of strict JSON
    ],
)
def test_invalid_json_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    refused(path, reason)


def test_json_size_limit(tmp_path: Path) -> None:
    path = make_json(tmp_path / "doc.json")
    refused(path, "json", "larger than", policy=FormatPolicy(max_json_bytes=10))


def test_npy_whose_length_disagrees_with_its_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(100))
    path.write_bytes(path.read_bytes()[:-8])
    refused(path, "npy", "does not match")
    path.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 'x'}\n")
    refused(path, "npy", "unreadable")
