"""What a file *is*, from its bytes: the first step of the safe-format policy.

Two questions, both answered from signatures and structure, never from a file name:

* :func:`candidate` — which allowlisted format could this be? Only a candidate is then checked in
  depth (``limelight.artifacts.tensorfiles`` / ``modelfiles``); anything else is refused.
* :func:`describe` — for a refusal, what does it look like (pickle, 7z, HDF5, …)? This only shapes the
  error message; the decision is the allowlist's.

Nothing here parses a pickle or imports a model library.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limelight.errors import UnsafeArtifactFormat
from limelight.schemas.registry import ArtifactFormatName

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_SKOPS_TRUSTED_TYPES",
    "FormatPolicy",
    "candidate",
    "classify_zip",
    "describe",
    "refusal",
]

ALLOWED_FORMATS: tuple[str, ...] = tuple(name.value for name in ArtifactFormatName)

# Types that skops' own default trust list leaves out but plain scikit-learn models need: compiled
# tree/neighbour structures rebuilt from arrays, and estimators some skops versions report as
# untrusted although they hold only arrays and scalars. Nothing here names a callable. The upload
# check and the sklearn runtime both use this one list.
DEFAULT_SKOPS_TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.EuclideanDistance32",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.pipeline.Pipeline",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
    }
)


@dataclass(frozen=True, slots=True)
class FormatPolicy:
    """Limits and trust settings of :func:`limelight.artifacts.formats.detect_format`."""

    max_json_bytes: int = 64 * 1024 * 1024
    max_safetensors_header_bytes: int = 100_000_000  # safetensors' own limit against header DoS
    max_npy_header_bytes: int = 10_000  # numpy's default max_header_size
    max_onnx_bytes: int = 2**31 - 1  # protobuf's hard limit for one message
    max_zip_members: int = 10_000
    max_unpacked_bytes: int = 16 * 1024**3  # declared uncompressed total of a zip-based artifact
    max_skops_schema_bytes: int = 64 * 1024 * 1024
    skops_trusted_types: frozenset[str] = field(default=DEFAULT_SKOPS_TRUSTED_TYPES)


def refusal(kind: str, reason: str | None = None, **details: Any) -> UnsafeArtifactFormat:
    """The 415 for a file that is not one of the allowed formats (or is a broken one)."""
    what = f"{kind} ({reason})" if reason else kind
    return UnsafeArtifactFormat(
        f"Refused artifact: detected {what}. Allowed formats: {', '.join(ALLOWED_FORMATS)}.",
        details={"detected": kind, "reason": reason, "allowed": list(ALLOWED_FORMATS), **details},
    )


_JSON_START = frozenset(b'{["-0123456789tfn')
_WHITESPACE = b" \t\r\n"
# Opcodes a protocol 0/1 pickle can start with: MARK, GLOBAL, EMPTY_LIST/DICT/TUPLE, NONE, INT, ...
_PICKLE_START = frozenset(b"(c]})NILFSVUXKJMGTdlt")

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (0, b"\x89HDF\r\n\x1a\n", "HDF5 file (Keras .h5 or similar)"),
    (0, b"\x1f\x8b", "gzip stream"),
    (0, b"BZh", "bzip2 stream"),
    (0, b"\xfd7zXZ\x00", "xz stream"),
    (0, b"\x28\xb5\x2f\xfd", "zstd stream"),
    (0, b"\x04\x22\x4d\x18", "lz4 stream"),
    (0, b"Rar!\x1a\x07", "rar archive"),
    (0, b"PAR1", "parquet file"),
    (0, b"ARROW1", "arrow file"),
    (0, b"\x7fELF", "ELF executable"),
    (0, b"MZ", "windows executable"),
    (0, b"#!", "script"),
    (257, b"ustar", "tar archive"),
    (4, b"TFL3", "tflite model"),
)


def _known_other(head: bytes) -> str | None:
    """The name of a well-known format outside the allowlist, if the signature says so."""
    if head[:1] == b"\x80":
        kind = f"pickle (protocol {head[1]})" if len(head) > 1 and head[1] <= 5 else "pickle"
        return "joblib " + kind if b"joblib" in head else kind
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:1] == b"\x78" and head[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
        return "zlib stream (e.g. a compressed joblib dump)"
    return None


def candidate(head: bytes, size: int) -> str | None:
    """The allowlisted format (or ``"zip"``, to be classified by members) these first bytes fit."""
    if _known_other(head) is not None:  # e.g. "7z…" must not pass for JSON because it starts with 7
        return None
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"GGUF"):  # llama.cpp's format; formats.identify accepts it for runtime llm only
        return "gguf"
    if head.startswith((b"tree\n", b"tree\r\n")):
        return "lightgbm"
    if len(head) >= 9 and head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head[:1] == b"\x08":  # field 1 (ir_version, varint): how every ONNX serialiser starts
        return "onnx"
    stripped = head.lstrip(_WHITESPACE)
    if stripped and stripped[0] in _JSON_START:
        return "json"
    return None


def describe(head: bytes, tail: bytes) -> str:
    """A human name for what a refused file looks like (only the message depends on it)."""
    known = _known_other(head)
    if known is not None:
        return known
    # pickle.dumps output for protocols 0 and 1 ends exactly with STOP (".").
    if head[:1] and head[0] in _PICKLE_START and tail.endswith(b"."):
        return "pickle (protocol 0 or 1)"
    if not head:
        return "empty file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary"
    return "text"


def _zip_members(path: Path, policy: FormatPolicy) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise refusal("zip archive", f"unreadable: {type(exc).__name__}") from None
    if len(members) > policy.max_zip_members:
        raise refusal("zip archive", f"more than {policy.max_zip_members} members")
    if sum(member.file_size for member in members) > policy.max_unpacked_bytes:
        raise refusal("zip archive", f"unpacks to more than {policy.max_unpacked_bytes} bytes")
    if any(member.flag_bits & 0x1 for member in members):
        raise refusal("zip archive", "encrypted members")
    return members


def classify_zip(path: Path, policy: FormatPolicy) -> str:
    """``"skops"`` or ``"npz"`` for a zip that may be one; raise a refusal naming anything else."""
    names = [member.filename for member in _zip_members(path, policy)]
    lowered = [name.lower() for name in names]
    if any(name.endswith((".pkl", ".pickle", "data.pkl")) for name in lowered):
        torch_like = any(name.endswith("data.pkl") for name in lowered)
        raise refusal("PyTorch checkpoint (zip with pickle)" if torch_like else "zip containing pickle")
    if "config.json" in lowered and any(name.endswith((".h5", ".keras")) for name in lowered):
        raise refusal("Keras archive")
    if "schema.json" in names:
        return "skops"
    if names and all(name.endswith(".npy") for name in names):
        return "npz"
    raise refusal("zip archive", "neither a skops file nor an npz of .npy arrays")
