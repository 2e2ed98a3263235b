"""Deep checks of the array formats: safetensors, npy and npz.

All three are a small header plus raw buffers. We parse the header ourselves (safetensors: JSON;
npy: numpy's own literal-eval header reader, size-limited) and check that it describes exactly the
bytes that follow, so a runtime that later trusts the header never reads past the buffer. No array
data is loaded and pickle is never enabled: an object dtype (which only pickle can restore) is refused.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import IO, Any

from limelight.artifacts.sniff import FormatPolicy, refusal

__all__ = ["check_npy", "check_npz", "check_safetensors"]

# Bits per element of every dtype safetensors defines.
_SAFETENSORS_DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip
_MAX_LISTED_ARRAYS = 100


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_span(name: str, info: object, buffer_bytes: int) -> tuple[int, int, str]:
    """Validate one safetensors header entry; return its (begin, end, dtype)."""
    bad = refusal("safetensors", f"invalid header entry {name[:80]!r}")
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise bad
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in _SAFETENSORS_DTYPE_BITS or not isinstance(shape, list) or not isinstance(offsets, list):
        raise bad
    if not all(_is_count(dim) for dim in shape) or len(offsets) != 2 or not all(map(_is_count, offsets)):
        raise bad
    begin, end = offsets
    if not begin <= end <= buffer_bytes:
        raise refusal("safetensors", f"tensor {name[:80]!r} lies outside the data buffer")
    bits = math.prod(shape) * _SAFETENSORS_DTYPE_BITS[dtype]
    if bits % 8 or bits // 8 != end - begin:
        raise refusal("safetensors", f"tensor {name[:80]!r} size does not match its shape and dtype")
    return begin, end, dtype


def _read_safetensors_header(path: Path, size: int, policy: FormatPolicy) -> tuple[dict[str, Any], int]:
    with path.open("rb") as handle:
        header_bytes = int.from_bytes(handle.read(8), "little")
        if header_bytes > policy.max_safetensors_header_bytes:
            raise refusal("safetensors", f"header larger than {policy.max_safetensors_header_bytes} bytes")
        if 8 + header_bytes > size:
            raise refusal("safetensors", "header length exceeds the file size")
        raw = handle.read(header_bytes)
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise refusal("safetensors", "header is not valid UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise refusal("safetensors", "header is not a JSON object")
    return header, header_bytes


def check_safetensors(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    header, header_bytes = _read_safetensors_header(path, size, policy)
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise refusal("safetensors", "__metadata__ must map strings to strings")
    buffer_bytes = size - 8 - header_bytes
    spans = sorted(_tensor_span(name, info, buffer_bytes) for name, info in header.items())
    # The buffer must be covered exactly: no overlaps, no holes, nothing trailing.
    position = 0
    for begin, end, _ in spans:
        if begin != position:
            raise refusal("safetensors", "tensor buffers overlap or leave holes")
        position = end
    if position != buffer_bytes:
        raise refusal("safetensors", "data buffer has bytes no tensor describes")
    return {
        "header_bytes": header_bytes,
        "tensors": len(spans),
        "dtypes": sorted({dtype for _, _, dtype in spans}),
        "metadata_keys": sorted(metadata)[:_MAX_LISTED_ARRAYS] if metadata else [],
    }


def _npy_header(handle: IO[bytes], kind: str, policy: FormatPolicy) -> tuple[Any, tuple[int, ...], int]:
    """(dtype, shape, data bytes) from an npy header, refusing versions and dtypes we cannot trust."""
    import numpy as np  # here, not at import: the policy module stays light

    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle, policy.max_npy_header_bytes)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle, policy.max_npy_header_bytes)
        else:
            raise refusal(kind, f"unsupported npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError, OSError):
        raise refusal(kind, "unreadable npy header") from None
    if dtype.hasobject:
        raise refusal(kind, "object dtype: loading it requires pickle")
    return dtype, tuple(shape), math.prod(shape) * dtype.itemsize


def check_npy(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    with path.open("rb") as handle:
        dtype, shape, data_bytes = _npy_header(handle, "npy", policy)
        if handle.tell() + data_bytes != size:
            raise refusal("npy", "data length does not match the header")
    return {"dtype": dtype.str, "shape": list(shape)}


def check_npz(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    arrays: dict[str, dict[str, Any]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            for member in members:
                # Only each member's header is decompressed, so an npz bomb costs nothing here.
                with archive.open(member) as handle:
                    dtype, shape, data_bytes = _npy_header(handle, "npz", policy)
                    if handle.tell() + data_bytes != member.file_size:
                        raise refusal(
                            "npz", f"member {member.filename[:80]!r} length does not match its header"
                        )
                if len(arrays) < _MAX_LISTED_ARRAYS:
                    arrays[member.filename.removesuffix(".npy")[:200]] = {
                        "dtype": dtype.str,
                        "shape": list(shape),
                    }
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise refusal("npz", f"unreadable member: {type(exc).__name__}") from None
    return {"count": len(members), "arrays": arrays}
