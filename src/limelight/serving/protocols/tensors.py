"""KServe v2 tensors <-> the per-item payloads runtimes take, shared by the REST and gRPC protocols.

A request tensor's first axis is the batch: row ``i`` of every input tensor makes item ``i`` (the
row itself for a one-input model, ``{input name: row}`` otherwise). Types and fixed dimensions are
checked against the runtime's signature, and errors name the field (``inputs[0].shape``). Outputs
go the other way: one tensor per signature output, stacked over the items; values with no numeric
form (recommendation lists, ragged rows) travel as BYTES holding JSON. An input of signature dtype
``bytes`` (an image) gets each BYTES element as it came, undecoded: raw bytes from the binary
extension or gRPC, the UTF-8 of a (base64) string from JSON.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from limelight.errors import ValidationFailed

__all__ = ["NUMPY_OF", "V2_OF_DTYPE", "Tensor", "decode_bytes_elements", "encode_bytes_elements",
           "items_from_tensors", "outputs_to_tensors", "tensor_from_data", "tensor_from_raw"]

V2_OF_DTYPE: Mapping[str, str] = {
    "float64": "FP64", "float32": "FP32", "float16": "FP16", "int64": "INT64", "int32": "INT32",
    "int16": "INT16", "int8": "INT8", "uint8": "UINT8", "bool": "BOOL", "string": "BYTES", "object": "BYTES",
    "bytes": "BYTES",
}
NUMPY_OF: Mapping[str, str] = {
    "FP64": "<f8", "FP32": "<f4", "FP16": "<f2", "INT64": "<i8", "INT32": "<i4", "INT16": "<i2", "INT8": "i1",
    "UINT64": "<u8", "UINT32": "<u4", "UINT16": "<u2", "UINT8": "u1", "BOOL": "?",
}
_NUMERIC = frozenset(NUMPY_OF) - {"BOOL"}
_ACCEPTS: Mapping[str, frozenset[str]] = {  # signature dtype -> request datatypes taken for it
    "float64": _NUMERIC, "float32": _NUMERIC, "float16": _NUMERIC,
    "int64": frozenset(t for t in _NUMERIC if "INT" in t), "int32": frozenset(t for t in _NUMERIC if "INT" in t),
    "bool": frozenset({"BOOL"}), "string": frozenset({"BYTES"}), "object": frozenset({"BYTES"}),
    "bytes": frozenset({"BYTES"}),
}
MAX_ELEMENTS = 1 << 24


def _invalid(field: str, message: str, **details: Any) -> ValidationFailed:
    """A 422 whose message starts with the field it is about (``inputs[0].shape: ...``)."""
    return ValidationFailed(f"{field}: {message}", details={"field": field, **details})


@dataclass
class Tensor:
    name: str
    datatype: str
    shape: tuple[int, ...]
    values: Any  # an ndarray of ``shape``; BYTES: a flat list of bytes


def _shape(index: int, shape: Any) -> tuple[int, ...]:
    if (not isinstance(shape, list | tuple) or not shape
            or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape)):
        raise _invalid(f"inputs[{index}].shape", "must be a non-empty list of non-negative integers")
    if math.prod(shape) > MAX_ELEMENTS:  # Python ints: numpy's int64 product wraps around, going negative
        raise _invalid(f"inputs[{index}].shape", "tensor too large")
    return tuple(int(d) for d in shape)


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    if data and isinstance(data[0], list):
        return [x for part in data for x in _flatten(part)]
    return data


def tensor_from_data(index: int, name: str, datatype: str, shape: Any, data: Any) -> Tensor:
    """A tensor from JSON ``data`` (flat or nested, row-major)."""
    dims = _shape(index, shape)
    flat = _flatten(data)
    if len(flat) != math.prod(dims):
        raise _invalid(f"inputs[{index}].shape", f"{list(dims)} needs {math.prod(dims)} values, data has {len(flat)}")
    if datatype == "BYTES":
        return Tensor(name, datatype, dims, [v.encode() if isinstance(v, str) else _as_bytes(index, v) for v in flat])
    try:
        values = np.asarray(flat, dtype=_numpy_dtype(index, datatype)).reshape(dims)
    except (TypeError, ValueError) as exc:
        raise _invalid(f"inputs[{index}].data", f"does not fit {datatype}: {exc}") from None
    return Tensor(name, datatype, dims, values)


def tensor_from_raw(index: int, name: str, datatype: str, shape: Any, raw: bytes) -> Tensor:
    """A tensor from the binary extension / gRPC ``raw_input_contents`` (little-endian, row-major)."""
    dims = _shape(index, shape)
    count = math.prod(dims)
    if datatype == "BYTES":
        elements = decode_bytes_elements(raw, f"inputs[{index}]")
        if len(elements) != count:
            raise _invalid(f"inputs[{index}].shape", f"{list(dims)} needs {count} elements, got {len(elements)}")
        return Tensor(name, datatype, dims, elements)
    dtype = np.dtype(_numpy_dtype(index, datatype))
    if len(raw) != count * dtype.itemsize:
        raise _invalid(f"inputs[{index}].shape",
                       f"{list(dims)} of {datatype} needs {count * dtype.itemsize} bytes, got {len(raw)}")
    return Tensor(name, datatype, dims, np.frombuffer(raw, dtype=dtype).reshape(dims))


def _numpy_dtype(index: int, datatype: str) -> str:
    if datatype not in NUMPY_OF:
        raise _invalid(f"inputs[{index}].datatype", f"unsupported datatype {datatype!r}")
    return NUMPY_OF[datatype]


def _as_bytes(index: int, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    raise _invalid(f"inputs[{index}].data", "BYTES data must be strings")


def decode_bytes_elements(raw: bytes, field: str) -> list[bytes]:
    """Elements of a serialized BYTES tensor: each a little-endian uint32 length, then the bytes."""
    out, at = [], 0
    while at < len(raw):
        if at + 4 > len(raw):
            raise _invalid(field, "truncated BYTES tensor")
        (size,) = struct.unpack_from("<I", raw, at)
        at += 4
        if at + size > len(raw):
            raise _invalid(field, "truncated BYTES tensor")
        out.append(raw[at:at + size])
        at += size
    return out


def encode_bytes_elements(elements: Sequence[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


# ---- tensors -> items ---------------------------------------------------------------------------

def items_from_tensors(signature: Mapping[str, Any], tensors: list[Tensor]) -> list[Any]:
    specs = {s["name"]: s for s in signature.get("inputs") or []}
    if not tensors:
        raise _invalid("inputs", "must not be empty")
    features = _feature_names(specs)
    if features and not any(t.name in specs for t in tensors):
        return _rows_by_feature(features, tensors)
    batch = tensors[0].shape[0]
    columns: dict[str, list[Any]] = {}
    for index, tensor in enumerate(tensors):
        spec = specs.get(tensor.name)
        if spec is None:
            raise _invalid(f"inputs[{index}].name", f"unknown input {tensor.name!r}; the model takes {sorted(specs)}",
                           expected=sorted(specs))
        if tensor.shape[0] != batch:
            raise _invalid(f"inputs[{index}].shape", "every input needs the same batch size (first dimension)")
        _check_against(index, tensor, spec)
        columns[tensor.name] = _rows(index, tensor, spec.get("dtype"))
    if len(specs) == 1:
        return next(iter(columns.values()))
    names = list(columns)
    return [{name: columns[name][i] for name in names} for i in range(batch)]


def _feature_names(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The named features of a tabular model (its one input lists them), else none."""
    if len(specs) != 1:
        return []
    return [str(n) for n in next(iter(specs.values())).get("names") or []]


def _rows_by_feature(features: list[str], tensors: list[Tensor]) -> list[dict[str, Any]]:
    """One tensor per feature, named after it (the column-wise form KServe's pandas codec sends):
    numbers as FP/INT, categories as BYTES. Each row becomes ``{feature: value}``, which the runtime
    checks by name like a native request (a missing or unknown feature is named in the 422)."""
    batch = tensors[0].shape[0]
    columns: dict[str, list[Any]] = {}
    for index, tensor in enumerate(tensors):
        if tensor.name not in features:
            raise _invalid(f"inputs[{index}].name", f"unknown feature {tensor.name!r}; the model takes {features}",
                           expected=features)
        if tensor.name in columns:
            raise _invalid(f"inputs[{index}].name", f"feature {tensor.name!r} is sent twice")
        if len(tensor.shape) > 2 or (len(tensor.shape) == 2 and tensor.shape[1] != 1):
            raise _invalid(f"inputs[{index}].shape", f"feature {tensor.name!r} takes one value per row: shape [N] or "
                           f"[N, 1], got {list(tensor.shape)}")
        if tensor.shape[0] != batch:
            raise _invalid(f"inputs[{index}].shape", "every input needs the same batch size (first dimension)")
        values = _rows(index, tensor, None)
        columns[tensor.name] = [v[0] if isinstance(v, list) else v for v in values]
    return [{name: column[i] for name, column in columns.items()} for i in range(batch)]


def _check_against(index: int, tensor: Tensor, spec: Mapping[str, Any]) -> None:
    accepted = _ACCEPTS.get(str(spec.get("dtype")))
    if accepted is not None and tensor.datatype not in accepted:
        raise _invalid(f"inputs[{index}].datatype", f"input {tensor.name!r} takes {sorted(accepted)}, got {tensor.datatype}",
                       expected=sorted(accepted))
    expected = list(spec.get("shape") or [])
    if expected and (len(expected) != len(tensor.shape)
                     or any(e > 0 and e != d for e, d in zip(expected[1:], tensor.shape[1:], strict=False))):
        raise _invalid(f"inputs[{index}].shape", f"input {tensor.name!r} has shape {list(tensor.shape)}, "
                       f"the model takes {expected}", expected=expected)


def _rows(index: int, tensor: Tensor, dtype: Any) -> list[Any]:
    if tensor.datatype != "BYTES":
        rows: list[Any] = tensor.values.tolist()
        return rows
    if dtype == "bytes" and len(tensor.shape) == 1:  # binary payloads (images): the elements as sent
        return list(tensor.values)
    try:
        decoded: list[Any] = [b.decode() for b in tensor.values]
        if dtype == "object":
            decoded = [orjson.loads(s) for s in decoded]
    except (UnicodeDecodeError, orjson.JSONDecodeError):
        raise _invalid(f"inputs[{index}].data", "BYTES elements must be UTF-8 (JSON for object inputs)") from None
    if len(tensor.shape) == 1:
        return decoded
    grid = np.empty(len(decoded), dtype=object)
    grid[:] = decoded
    nested: list[Any] = grid.reshape(tensor.shape).tolist()
    return nested


# ---- outputs -> tensors --------------------------------------------------------------------------

def outputs_to_tensors(signature: Mapping[str, Any], outputs: list[Any], wanted: list[str] | None) -> list[Tensor]:
    specs = list(signature.get("outputs") or [{"name": "output0", "dtype": "object"}])
    if len(specs) > 1 and outputs and isinstance(outputs[0], dict):
        columns = {s["name"]: [o.get(s["name"]) for o in outputs] for s in specs}
    else:
        specs = specs[:1]
        columns = {specs[0]["name"]: outputs}
    if wanted:
        unknown = [n for n in wanted if n not in columns]
        if unknown:
            raise _invalid("outputs", f"unknown output(s) {unknown}; the model gives {sorted(columns)}", expected=sorted(columns))
        specs = [s for s in specs if s["name"] in wanted]
    return [_stack(s["name"], str(s.get("dtype")), columns[s["name"]]) for s in specs]


def _stack(name: str, dtype: str, column: list[Any]) -> Tensor:
    datatype = V2_OF_DTYPE.get(dtype, "BYTES")
    if datatype != "BYTES":
        try:
            values = np.asarray(column, dtype=NUMPY_OF[datatype])
            return Tensor(name, datatype, tuple(values.shape), values)
        except (TypeError, ValueError):
            pass  # ragged or not numeric after all: JSON below
    encode: Callable[[Any], bytes] = lambda v: v.encode() if isinstance(v, str) else orjson.dumps(v)  # noqa: E731
    return Tensor(name, "BYTES", (len(column),), [encode(v) for v in column])


def tensor_json(tensor: Tensor, binary: bool) -> tuple[dict[str, Any], bytes | None]:
    """The JSON of an output tensor and, with the binary extension, its raw bytes."""
    head: dict[str, Any] = {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.shape)}
    if binary:
        raw = tensor_bytes(tensor)
        head["parameters"] = {"binary_data_size": len(raw)}
        return head, raw
    if tensor.datatype == "BYTES":
        head["data"] = [b.decode(errors="replace") for b in tensor.values]
    else:
        head["data"] = tensor.values.ravel().tolist()
    return head, None


def tensor_bytes(tensor: Tensor) -> bytes:
    if tensor.datatype == "BYTES":
        return encode_bytes_elements(tensor.values)
    return bytes(np.ascontiguousarray(tensor.values, dtype=NUMPY_OF[tensor.datatype]).tobytes())
