"""The Runtime Protocol, the runtime registry and the checks every artifact goes through.

A runtime loads one artifact format from a local file (or directory) and predicts on a batch.
``predict_batch`` is synchronous and CPU-bound: the serving layer calls it off the event loop.
No runtime ever unpickles bytes: ``refuse_pickle`` runs before any format-specific loader.
"""

from __future__ import annotations

import importlib
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from limelight.domains import RUNTIMES
from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed

__all__ = [
    "RUNTIME_CLASSES",
    "LoadContext",
    "Runtime",
    "RuntimeFactory",
    "check_float_row",
    "int_param",
    "io_spec",
    "load_runtime",
    "refuse_pickle",
]


@runtime_checkable
class Runtime(Protocol):
    """One loaded model version. Built by ``<RuntimeClass>.load(artifact_path, params, context)``."""

    memory_bytes: int
    """Estimated resident size, used by the model host's memory budget."""
    max_batch_size: int
    """The largest batch this runtime handles well (a hint for the batcher)."""

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        """One output per input, in order. Sync and CPU-bound: never call it on the event loop.
        An item refused on its own (an image its decoder rejected) may be answered with its
        ``LimelightError`` in its place: that request fails, the batch's others are answered."""
        ...

    def signature(self) -> dict[str, Any]:
        """``{"inputs": [{"name", "dtype", "shape"}], "outputs": [...]}``; -1 marks a free axis."""
        ...

    def validate_input(self, item: Any) -> Any:
        """The item in the form ``predict_batch`` expects; ``ValidationFailed`` naming the field."""
        ...

    def close(self) -> None:
        """Release sessions and memory; called once when the version is unloaded."""
        ...


@dataclass(frozen=True)
class LoadContext:
    """What the caller lends a runtime at load time besides the artifact and its params.

    ``cache_dir`` holds derived files (an ONNX export); ``export_cache(path)`` is called after a
    runtime wrote a derived file there, so the caller can store it as an artifact of its own.
    ``org`` is the org the version is served in (a fork serves in its new org), and ``services``
    holds the serving process's shared helpers a runtime may use (``event_feed`` for live events).
    """

    cache_dir: Path | None = None
    export_cache: Callable[[Path], None] | None = None
    org: str | None = None
    services: Mapping[str, Any] = field(default_factory=dict)


RuntimeFactory = Callable[[Path, dict[str, Any], LoadContext], Runtime]

# Runtime name -> "module:Class" (declared in limelight.domains); imported only when that runtime is
# first loaded, so importing limelight.runtimes never pulls torch, onnxruntime or lightgbm in.
RUNTIME_CLASSES: Mapping[str, str] = MappingProxyType({name: r.target for name, r in RUNTIMES.items()})


def load_runtime(
    runtime: str, artifact_path: Path, params: dict[str, Any], context: LoadContext | None = None
) -> Runtime:
    """Load ``artifact_path`` with the runtime named ``runtime`` (a key of ``RUNTIME_CLASSES``)."""
    target = RUNTIME_CLASSES.get(runtime)
    if target is None:
        raise InvalidParams(
            f"unknown runtime {runtime!r}", details={"field": "runtime", "allowed": sorted(RUNTIME_CLASSES)}
        )
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    loaded: Runtime = cls.load(Path(artifact_path), dict(params or {}), context or LoadContext())
    return loaded


_PICKLE_PROTOCOL_BYTES = frozenset({2, 3, 4, 5})


def refuse_pickle(path: Path) -> None:
    """Raise ``UnsafeArtifactFormat`` if ``path`` looks like a pickle, joblib or torch.save file.

    Format loaders check their own format too; this gives the one clear refusal code for the
    formats that would execute code if anyone ever loaded them.
    """
    if path.is_dir():
        for child in sorted(path.rglob("*"))[:_MAX_FILES_CHECKED]:
            if child.is_file():
                _refuse_pickle_file(child)
        return
    _refuse_pickle_file(path)


_MAX_FILES_CHECKED = 10_000


def _refuse_pickle_file(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(2)
    if len(head) == 2 and head[0] == 0x80 and head[1] in _PICKLE_PROTOCOL_BYTES:
        _refuse(path, "a Python pickle")
    if head[:1] == b"x" and head[1:2] in {b"\x01", b"\x5e", b"\x9c", b"\xda"}:
        _refuse(path, "a zlib stream (joblib-compressed pickle)")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            if any(n.endswith((".pkl", ".pickle")) for n in zf.namelist()):
                _refuse(path, "a zip holding pickles (torch.save format)")


def _refuse(path: Path, what: str) -> None:
    raise UnsafeArtifactFormat(
        f"refusing {path.name}: it is {what}; limelight never unpickles artifacts",
        details={"field": "artifact", "detected": what},
    )


def check_float_row(item: Any, n_features: int, field: str = "inputs") -> list[float]:
    """A row of exactly ``n_features`` finite numbers (bools and strings refused)."""
    if not isinstance(item, list | tuple):
        raise ValidationFailed(
            f"{field} must be a list of {n_features} numbers", details={"field": field, "expected": "array"}
        )
    if len(item) != n_features:
        raise ValidationFailed(
            f"{field} must have {n_features} numbers, got {len(item)}",
            details={"field": field, "expected_shape": [n_features], "got_shape": [len(item)]},
        )
    for i, value in enumerate(item):
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            raise ValidationFailed(
                f"{field}[{i}] must be a finite number",
                details={"field": f"{field}[{i}]", "expected": "finite number"},
            )
    return item if isinstance(item, list) else list(item)


def io_spec(name: str, dtype: str, shape: list[int]) -> dict[str, Any]:
    """One entry of a signature's ``inputs``/``outputs``; -1 marks a free axis (batch first)."""
    return {"name": name, "dtype": dtype, "shape": shape}


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer version param within [low, high]; params are user input, so bounds matter."""
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParams(
            f"params.{name} must be an integer in {low}..{high}", details={"field": f"params.{name}"}
        )
    return value
