"""The fixed header of a GGUF file (llama.cpp's model format), read with ``struct`` and bounded.

A GGUF file starts with the magic ``GGUF``, a version, the number of tensors and the number of
metadata entries. Those counts drive the loops of every GGUF reader, so a crafted file with an
absurd count is refused here, before any reader loops over it: each tensor description takes at
least 24 bytes and each metadata entry at least 13, so counts the file size cannot hold are lies.
The metadata itself is read by ``limelight.generation.gguf_file`` (in the validator process).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limelight.artifacts.sniff import FormatPolicy
from limelight.errors import ArtifactInvalid

__all__ = ["GGUF_MAGIC", "GGUFHeader", "check_gguf", "read_gguf_header"]

GGUF_MAGIC = b"GGUF"
_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata entry count
_SUPPORTED_VERSIONS = (2, 3)
_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # name length, dimension count, type, offset
_MIN_KV_BYTES = 8 + 4 + 1  # key length, value type, the smallest value
_MAX_TENSORS = 1 << 20  # llama.cpp models have thousands; a million is already far past any real one
_MAX_KV = 1 << 16


@dataclass(frozen=True, slots=True)
class GGUFHeader:
    version: int
    tensor_count: int
    kv_count: int
    size_bytes: int


def read_gguf_header(path: Path) -> GGUFHeader:
    """The header of ``path``; ``ArtifactInvalid`` (422) if it cannot be a consistent GGUF file."""
    if not Path(path).is_file():
        raise _invalid("the model must be one regular .gguf file")
    size = Path(path).stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise _invalid(f"truncated: {size} bytes, shorter than its {_HEADER.size}-byte header")
    magic, version, tensor_count, kv_count = _HEADER.unpack(head)
    if magic != GGUF_MAGIC:
        raise _invalid("no GGUF magic")
    if version not in _SUPPORTED_VERSIONS:
        raise _invalid(f"version {version}; supported: {', '.join(map(str, _SUPPORTED_VERSIONS))}")
    room = size - _HEADER.size
    if tensor_count > min(_MAX_TENSORS, room // _MIN_TENSOR_INFO_BYTES):
        raise _invalid(f"it claims {tensor_count} tensors, more than its {size} bytes can describe")
    if kv_count > min(_MAX_KV, room // _MIN_KV_BYTES):
        raise _invalid(f"it claims {kv_count} metadata entries, more than its {size} bytes can hold")
    if tensor_count * _MIN_TENSOR_INFO_BYTES + kv_count * _MIN_KV_BYTES > room:
        raise _invalid(f"its {tensor_count} tensors and {kv_count} entries do not fit in {size} bytes")
    return GGUFHeader(version=version, tensor_count=tensor_count, kv_count=kv_count, size_bytes=size)


def check_gguf(path: Path, size: int, policy: FormatPolicy) -> dict[str, Any]:
    """The format check of :mod:`limelight.artifacts.formats`: the header is plausible."""
    header = read_gguf_header(path)
    return {"gguf_version": header.version, "tensor_count": header.tensor_count, "kv_count": header.kv_count}


def _invalid(reason: str) -> ArtifactInvalid:
    return ArtifactInvalid(f"Refused GGUF file: {reason}.", details={"field": "artifact", "format": "gguf",
                                                                    "reason": reason})
