"""ONNX models on onnxruntime's CPU provider, tuned for a small (2-core) box.

The model is parsed and checked with ``onnx`` first; models with external data are refused, and
onnxruntime gets the bytes (not the path), so it never resolves a file outside the artifact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from limelight.errors import UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes.base import LoadContext, int_param, io_spec, refuse_pickle

_ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
}


def session_options(threads: int) -> Any:
    """Options for a box with few cores: ops run one after another, each on ``threads`` threads."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return so


def read_checked_model(path: Path) -> bytes:
    """The bytes of a valid ONNX model without external data, else ``UnsafeArtifactFormat``."""
    import onnx

    refuse_pickle(path)
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
        onnx.checker.check_model(model)
    except Exception as exc:  # protobuf DecodeError, ValidationError, ...
        raise UnsafeArtifactFormat(
            "not a valid ONNX model", details={"field": "artifact", "error": str(exc)[:200]}
        ) from exc
    if any(
        t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data) for t in _tensors(model.graph)
    ):
        raise UnsafeArtifactFormat(
            "ONNX models with external data are not accepted; save the weights inside the model file",
            details={"field": "artifact"},
        )
    return data


def _tensors(graph: Any) -> Iterator[Any]:
    """Every tensor stored in ``graph``: initializers, constants, and those of subgraphs."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


class OnnxRuntime:
    """One input: an item is the input's value (nested lists); several: a dict name -> value.
    One output: a result is that output's row; several: a dict name -> row."""

    def __init__(self, session: Any, *, memory_bytes: int, max_batch_size: int) -> None:
        self._session = session
        self._inputs = [(i.name, _dtype(i.type), _dims(i.shape)) for i in session.get_inputs()]
        self._outputs = [
            (o.name, _ORT_DTYPES.get(o.type, o.type), _dims(o.shape)) for o in session.get_outputs()
        ]
        fixed_batch = any(dims and dims[0] == 1 for _, _, dims in self._inputs)
        self._fixed_batch = fixed_batch
        self.memory_bytes = memory_bytes
        self.max_batch_size = 1 if fixed_batch else max_batch_size

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> OnnxRuntime:
        import onnxruntime as ort

        data = read_checked_model(artifact_path)
        so = session_options(int_param(params, "threads", 2, 1, 64))
        session = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        return cls(
            session,
            memory_bytes=2 * len(data) + (8 << 20),
            max_batch_size=int_param(params, "max_batch_size", 64, 1, 4096),
        )

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        import numpy as np

        if self._fixed_batch and len(inputs) > 1:
            return [out for item in inputs for out in self.predict_batch([item])]
        feed = {name: np.stack([item[name] for item in inputs]) for name, _, _ in self._inputs}
        results = self._session.run(None, feed)
        if len(results) == 1:
            rows: list[Any] = results[0].tolist()
            return rows
        names = [name for name, _, _ in self._outputs]
        columns = [r.tolist() for r in results]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]

    def signature(self) -> dict[str, Any]:
        return {
            "inputs": [io_spec(n, d, [-1 if x is None else x for x in dims]) for n, d, dims in self._inputs],
            "outputs": [
                io_spec(n, d, [-1 if x is None else x for x in dims]) for n, d, dims in self._outputs
            ],
        }

    def validate_input(self, item: Any) -> dict[str, Any]:
        if len(self._inputs) == 1 and not isinstance(item, dict):
            item = {self._inputs[0][0]: item}
        if not isinstance(item, dict):
            names = [n for n, _, _ in self._inputs]
            raise ValidationFailed(
                "inputs must be an object keyed by input name", details={"field": "inputs", "expected": names}
            )
        return {name: _as_array(item.get(name), name, dtype, dims[1:]) for name, dtype, dims in self._inputs}

    def close(self) -> None:
        self._session = None


def _dtype(ort_type: str) -> str:
    if ort_type not in _ORT_DTYPES:
        raise UnsafeArtifactFormat(f"unsupported ONNX input type {ort_type}", details={"field": "artifact"})
    return _ORT_DTYPES[ort_type]


def _dims(shape: list[Any]) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


def _as_array(value: Any, name: str, dtype: str, dims: list[int | None]) -> Any:
    import numpy as np

    if value is None:
        raise ValidationFailed(f"input {name!r} is missing", details={"field": name})
    try:
        raw = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ValidationFailed(f"input {name!r} is not a rectangular array", details={"field": name}) from exc
    allowed_kinds = "b" if dtype == "bool" else ("iu" if dtype.startswith("int") else "iuf")
    if raw.dtype.kind not in allowed_kinds:
        raise ValidationFailed(
            f"input {name!r} must hold {dtype} values", details={"field": name, "expected": dtype}
        )
    if raw.ndim != len(dims) or any(
        d is not None and d != got for d, got in zip(dims, raw.shape, strict=True)
    ):
        raise ValidationFailed(
            f"input {name!r} has shape {list(raw.shape)}, expected {[-1 if d is None else d for d in dims]}",
            details={
                "field": name,
                "expected_shape": [-1 if d is None else d for d in dims],
                "got_shape": list(raw.shape),
            },
        )
    return raw.astype(dtype, copy=False)
