"""Deep checks of the model and document formats: ONNX, LightGBM text, skops and JSON.

* ONNX is parsed with ``load_external_data=False`` and refused if *any* tensor (initialisers,
  attributes, sub-graphs, functions, training graphs) points at external data: an external location is
  a file path chosen by the uploader (CVE-2022-25882, CVE-2024-27318). It must then pass the checker.
* LightGBM is plain text; we check its header and that the tree section is closed, without loading it.
* skops is refused unless every type ``skops.io.get_untrusted_types`` reports is on the policy's
  explicit allowlist. That audit builds skops' node tree but constructs no object.
* JSON must be UTF-8, strict (no NaN/Infinity), not too deep and under the size limit.

Model libraries are imported inside the functions: a process that never checks an ONNX file never
loads onnx.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from limelight.artifacts.sniff import FormatPolicy, refusal

__all__ = ["check_json", "check_lightgbm", "check_onnx", "check_skops"]

_LIGHTGBM_VERSION = re.compile(r"version=v\d+")
_LIGHTGBM_HEADER_KEYS = ("version", "num_class", "max_feature_idx")
_LIGHTGBM_MAX_LINE_CHARS = 64 * 1024 * 1024
_MAX_NAME_CHARS = 200  # uploader-chosen names echoed in details are truncated


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def check_json(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    if size > policy.max_json_bytes:
        raise refusal("json", f"larger than {policy.max_json_bytes} bytes")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise refusal("json", "not UTF-8") from None
    except RecursionError:
        raise refusal("json", "nested too deeply") from None
    except ValueError as exc:
        raise refusal("json", f"does not parse: {str(exc)[:120]}") from None
    return {"top_level": type(document).__name__}


def _graph_tensors(graph: Any) -> Iterator[Any]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from (sparse.values, sparse.indices)
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: Any) -> Iterator[Any]:
    for attribute in node.attribute:
        if attribute.HasField("t"):
            yield attribute.t
        yield from attribute.tensors
        if attribute.HasField("sparse_tensor"):
            yield from (attribute.sparse_tensor.values, attribute.sparse_tensor.indices)
        for sparse in attribute.sparse_tensors:
            yield from (sparse.values, sparse.indices)
        if attribute.HasField("g"):
            yield from _graph_tensors(attribute.g)
        for subgraph in attribute.graphs:
            yield from _graph_tensors(subgraph)


def _model_tensors(model: Any) -> Iterator[Any]:
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)
    for info in model.training_info:
        yield from _graph_tensors(info.initialization)
        yield from _graph_tensors(info.algorithm)


def check_onnx(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    if size > policy.max_onnx_bytes:
        raise refusal("onnx", f"larger than {policy.max_onnx_bytes} bytes")
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends: any failure means "not ONNX"
        raise refusal("onnx", f"does not parse: {type(exc).__name__}") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise refusal("onnx", "not a model: missing ir_version, graph or opset_import")
    for tensor in _model_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data) > 0:
            raise refusal("onnx", "tensor with external data", tensor=tensor.name[:120])
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # ValidationError, or a C++ error surfaced as another type
        raise refusal("onnx", f"fails the ONNX checker: {str(exc)[:200]}") from None
    return {
        "ir_version": model.ir_version,
        "opsets": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "producer": model.producer_name[:_MAX_NAME_CHARS],
        "inputs": [value.name[:_MAX_NAME_CHARS] for value in model.graph.input][:100],
        "outputs": [value.name[:_MAX_NAME_CHARS] for value in model.graph.output][:100],
    }


def _lightgbm_lines(path: Path) -> Iterator[str]:
    try:
        with path.open("r", encoding="utf-8", newline=None) as handle:
            # readline(limit), not iteration: a file with no newline must not be read in one piece.
            while line := handle.readline(_LIGHTGBM_MAX_LINE_CHARS):
                if len(line) == _LIGHTGBM_MAX_LINE_CHARS and not line.endswith("\n"):
                    raise refusal("lightgbm", f"a line longer than {_LIGHTGBM_MAX_LINE_CHARS} characters")
                yield line
    except UnicodeDecodeError:
        raise refusal("lightgbm", "not UTF-8 text") from None


def check_lightgbm(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    header: dict[str, str] = {}
    in_header, closed = True, False
    trees: list[dict[str, str]] = []
    for number, raw in enumerate(_lightgbm_lines(path)):
        line = raw.rstrip("\n")
        if number == 0:
            if line != "tree":
                raise refusal("lightgbm", "first line is not 'tree'")
            continue
        if in_header and not line:
            in_header = False
        elif in_header and "=" in line:
            key, _, value = line.partition("=")
            header[key] = value
        elif line.startswith("Tree="):
            trees.append({})
        elif trees and not closed and "=" in line:
            key, _, value = line.partition("=")
            trees[-1][key] = value
        closed = closed or line == "end of trees"
    if not _LIGHTGBM_VERSION.fullmatch(f"version={header.get('version', '')}"):
        raise refusal("lightgbm", "no 'version=v…' header line")
    if any(key not in header for key in _LIGHTGBM_HEADER_KEYS) or not closed:
        raise refusal("lightgbm", "incomplete model text (header keys or 'end of trees' missing)")
    num_class, num_features = _ints(header, "num_class", 1, 1 << 16), _ints(header, "max_feature_idx", 0, 1 << 24) + 1
    _check_tree_count(header, len(trees))
    for index, tree in enumerate(trees):
        _check_tree(index, tree, num_features)
    return {
        "version": header["version"],
        "num_class": num_class,
        "num_features": num_features,
        "objective": header.get("objective", "")[:200],
        "trees": len(trees),
    }


_LIGHTGBM_MAX_LEAVES = 131_072  # LightGBM's own upper bound for num_leaves


def _ints(fields: dict[str, str], key: str, low: int, high: int) -> int:
    try:
        value = int(fields[key])
    except (KeyError, ValueError):
        raise refusal("lightgbm", f"{key} must be an integer") from None
    if not low <= value <= high:
        raise refusal("lightgbm", f"{key}={value} is outside {low}..{high}")
    return value


def _int_list(tree: dict[str, str], key: str, length: int, where: str) -> list[int]:
    try:
        values = [int(item) for item in tree.get(key, "").split()]
    except ValueError:
        raise refusal("lightgbm", f"{where}: {key} holds a non-integer") from None
    if len(values) != length:
        raise refusal("lightgbm", f"{where}: {key} has {len(values)} entries, expected {length}")
    return values


def _check_tree_count(header: dict[str, str], found: int) -> None:
    sizes = header.get("tree_sizes")
    if sizes is not None and len(sizes.split()) != found:
        raise refusal("lightgbm", f"tree_sizes lists {len(sizes.split())} trees, the file holds {found}")


def _check_tree(index: int, tree: dict[str, str], num_features: int) -> None:
    """The tree is well formed: LightGBM trusts these fields and indexes memory with them, so a
    crafted value crashes or hangs it (out-of-range features and children, cycles, NaN leaves)."""
    where = f"tree {index}"
    leaves = _ints(tree, "num_leaves", 1, _LIGHTGBM_MAX_LEAVES)
    try:
        values = [float(item) for item in tree.get("leaf_value", "").split()]
    except ValueError:
        raise refusal("lightgbm", f"{where}: leaf_value holds a non-number") from None
    if len(values) != leaves or not all(math.isfinite(value) for value in values):
        raise refusal("lightgbm", f"{where}: leaf_value must be {leaves} finite numbers")
    if leaves == 1:
        return
    internal = leaves - 1
    if any(not 0 <= feature < num_features for feature in _int_list(tree, "split_feature", internal, where)):
        raise refusal("lightgbm", f"{where}: split_feature outside 0..{num_features - 1}")
    for side in ("left_child", "right_child"):
        for node, child in enumerate(_int_list(tree, side, internal, where)):
            # A child is a later internal node (so no cycle) or a leaf ~child in 0..leaves-1.
            if not (node < child < internal or -leaves <= child <= -1):
                raise refusal("lightgbm", f"{where}: {side} of node {node} points at {child}")


def _skops_schema(path: Path, policy: FormatPolicy) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("schema.json")
        if info.file_size > policy.max_skops_schema_bytes:
            raise refusal("skops", f"schema.json larger than {policy.max_skops_schema_bytes} bytes")
        try:
            schema = json.loads(archive.read(info).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError, zipfile.BadZipFile):
            raise refusal("skops", "schema.json does not parse") from None
    if not isinstance(schema, dict) or "protocol" not in schema or "__loader__" not in schema:
        raise refusal("skops", "schema.json is not a skops schema")
    return schema


def check_skops(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    schema = _skops_schema(path, policy)
    import skops.io

    try:
        untrusted = set(skops.io.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises many types for malformed trees; all mean "refuse"
        raise refusal("skops", f"cannot be audited: {type(exc).__name__}") from None
    disallowed = sorted(untrusted - policy.skops_trusted_types)
    if disallowed:
        raise refusal("skops", "holds types outside the trusted allowlist", untrusted_types=disallowed[:50])
    return {
        "protocol": schema["protocol"],
        "root_type": f"{schema.get('__module__', '')}.{schema.get('__class__', '')}",
        "allowlisted_types": sorted(untrusted),
    }
