"""Artifact storage and the safe-format policy.

* :mod:`~limelight.artifacts.store` — the :class:`ArtifactStore` Protocol (content-addressed by sha256);
* :mod:`~limelight.artifacts.local` — the local-directory backend;
* :mod:`~limelight.artifacts.registry` — :func:`open_store` picks a backend by URI scheme;
* :mod:`~limelight.artifacts.paths` — :func:`safe_name` / :func:`contained_path` for any named file;
* :mod:`~limelight.artifacts.formats` — :func:`detect_format`, the allowlist of loadable formats.

Importing this package loads no model library; :func:`detect_format` imports onnx, skops or numpy
only for the format it is checking.
"""

from limelight.artifacts.formats import ALLOWED_FORMATS, ArtifactFormat, FormatPolicy, detect_format
from limelight.artifacts.local import LocalArtifactStore
from limelight.artifacts.paths import contained_path, safe_name
from limelight.artifacts.registry import open_store
from limelight.artifacts.store import ArtifactStore, BlobRef, GcReport, StagedBlob, validate_sha256

__all__ = [
    "ALLOWED_FORMATS",
    "ArtifactFormat",
    "ArtifactStore",
    "BlobRef",
    "FormatPolicy",
    "GcReport",
    "LocalArtifactStore",
    "StagedBlob",
    "contained_path",
    "detect_format",
    "open_store",
    "safe_name",
    "validate_sha256",
]
