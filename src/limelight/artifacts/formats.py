"""The safe-format policy: which artifact files limelight accepts, decided from their bytes.

Accepted (everything else raises :class:`limelight.errors.UnsafeArtifactFormat`, HTTP 415):

==============  ================================  =====================================================
name            media type                        what is checked
==============  ================================  =====================================================
safetensors     application/vnd.safetensors       JSON header <= 100 MB; every tensor's offsets inside
                                                  the buffer, sizes match shape x dtype, no holes
onnx            application/onnx                  parses as ModelProto without external data; no tensor
                                                  anywhere references external data; passes the checker
lightgbm        text/vnd.lightgbm                 LightGBM model text: ``tree``, ``version=v…`` header,
                                                  closed tree section
skops           application/vnd.skops+zip         zip with ``schema.json``; every untrusted type is on
                                                  the policy's explicit allowlist
npy             application/vnd.numpy.npy         header read without pickle; no object dtype; length
                                                  matches the header
npz             application/vnd.numpy.npz         zip of such .npy members only
json            application/json                  UTF-8, strict, size-limited
gguf            application/vnd.gguf              runtime ``llm`` only (and ``llm`` takes only gguf):
                                                  version 2 or 3; tensor and metadata counts the file
                                                  size can hold (the metadata is read by the runtime)
==============  ================================  =====================================================

Refused with the detected kind in the message: pickle (every protocol), joblib, PyTorch ``.pt``
(zip with ``data.pkl``), Keras and HDF5, 7z/gzip/xz/tar/rar and other archives, Parquet, executables,
unknown bytes. The file name never counts, and a ``declared`` format must match what the bytes are.
Detection never executes the file: there is no pickle, joblib or torch loader anywhere in this package.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from limelight.artifacts import gguf_header, modelfiles, sniff, tensorfiles
from limelight.artifacts.sniff import ALLOWED_FORMATS, DEFAULT_SKOPS_TRUSTED_TYPES, FormatPolicy, refusal

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_POLICY",
    "DEFAULT_SKOPS_TRUSTED_TYPES",
    "MEDIA_TYPES",
    "ArtifactFormat",
    "FormatPolicy",
    "detect_format",
    "identify",
]

MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "safetensors": "application/vnd.safetensors",
        "onnx": "application/onnx",
        "lightgbm": "text/vnd.lightgbm",
        "skops": "application/vnd.skops+zip",
        "npy": "application/vnd.numpy.npy",
        "npz": "application/vnd.numpy.npz",
        "json": "application/json",
        "gguf": "application/vnd.gguf",
    }
)
# Formats only some runtimes may load, and runtimes that load only some formats: a GGUF file goes
# to llama.cpp and nowhere else, and llama.cpp is given nothing but GGUF files.
_FORMAT_RUNTIMES: Mapping[str, frozenset[str]] = MappingProxyType({"gguf": frozenset({"llm"})})
_RUNTIME_FORMATS: Mapping[str, frozenset[str]] = MappingProxyType({"llm": frozenset({"gguf"})})
DEFAULT_POLICY = FormatPolicy()

_Checker = Callable[[Path, int, FormatPolicy], dict[str, Any]]
_CHECKERS: Mapping[str, _Checker] = MappingProxyType(
    {
        "safetensors": tensorfiles.check_safetensors,
        "npy": tensorfiles.check_npy,
        "npz": tensorfiles.check_npz,
        "onnx": modelfiles.check_onnx,
        "lightgbm": modelfiles.check_lightgbm,
        "skops": modelfiles.check_skops,
        "json": modelfiles.check_json,
        "gguf": gguf_header.check_gguf,
    }
)
_HEAD_BYTES = 4096  # enough for every signature, including tar's at offset 257
_TAIL_BYTES = 64


@dataclass(frozen=True, slots=True)
class ArtifactFormat:
    """An accepted artifact: its format name, media type and what the check learned about it."""

    name: str
    media_type: str
    details: dict[str, Any] = field(default_factory=dict)  # plain JSON-able values


def _read_ends(path: Path) -> tuple[int, bytes, bytes]:
    """(size, first bytes, last bytes) of a regular file; FIFOs and devices are refused, not read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refusal("not a regular file")
        head = handle.read(_HEAD_BYTES)
        handle.seek(max(0, info.st_size - _TAIL_BYTES))
        return info.st_size, head, handle.read(_TAIL_BYTES)


def _declared_name(declared: str | None) -> str | None:
    if declared is None:
        return None
    normalised = str(declared).strip().lower()
    for name, media_type in MEDIA_TYPES.items():
        if normalised == media_type:
            return name
    return normalised


def identify(path: Path, declared: str | None = None, *, policy: FormatPolicy = DEFAULT_POLICY,
             runtime: str | None = None) -> str:
    """The allowed format ``path`` can only be, from signatures and a zip's member list, else the
    refusal. Pure Python and cheap: it runs in the API process before any native parser sees the
    file, so a pickle or an archive is refused without starting a validator. With ``runtime``, the
    format must also be one that runtime loads (``None``: formats every runtime may load)."""
    size, head, tail = _read_ends(Path(path))
    name = sniff.candidate(head, size)
    if name == "zip":
        name = sniff.classify_zip(Path(path), policy)
    if name is None:
        raise refusal(sniff.describe(head, tail), declared=declared)
    wanted = _declared_name(declared)
    if wanted is not None and wanted != name:
        raise refusal(name, f"declared as {declared!r}", declared=declared)
    _check_runtime(name, runtime)
    return name


def _check_runtime(name: str, runtime: str | None) -> None:
    only_for = _FORMAT_RUNTIMES.get(name)
    if only_for is not None and runtime not in only_for:
        raise refusal(name, f"accepted only for runtime {', '.join(sorted(only_for))}", runtime=runtime)
    only_formats = _RUNTIME_FORMATS.get(runtime or "")
    if only_formats is not None and name not in only_formats:
        raise refusal(name, f"runtime {runtime} loads only {', '.join(sorted(only_formats))}", runtime=runtime)


def detect_format(
    path: Path, declared: str | None = None, *, policy: FormatPolicy = DEFAULT_POLICY, runtime: str | None = None
) -> ArtifactFormat:
    """Identify and check the artifact at ``path``; raise ``UnsafeArtifactFormat`` unless it is allowed.

    ``declared`` (a format name or media type, e.g. from an upload form) must agree with the bytes.
    The deep checks parse the file with its library (onnx, skops, numpy): run this in the sandbox.
    """
    name = identify(path, declared, policy=policy, runtime=runtime)
    details = _CHECKERS[name](Path(path), Path(path).stat().st_size, policy)
    return ArtifactFormat(name, MEDIA_TYPES[name], details)
