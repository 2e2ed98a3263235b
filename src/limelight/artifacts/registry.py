"""Artifact stores chosen by URI scheme.

``file:///var/lib/limelight/artifacts`` (or a bare path) opens a :class:`LocalArtifactStore`.
``s3://bucket/prefix?…`` opens the module ``limelight.artifacts.s3`` (boto3, the ``s3`` extra). Backends
are imported only when a URI asks for them, so the S3 client never loads in a local deployment.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from limelight.artifacts.local import LocalArtifactStore
from limelight.artifacts.store import ArtifactStore
from limelight.errors import InvalidParams

__all__ = ["STORE_SCHEMES", "open_store"]

StoreFactory = Callable[[str], ArtifactStore]


def _open_file_store(uri: str) -> ArtifactStore:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidParams(
            "A file:// artifact-store URI must be file:///absolute/path (no host, query or fragment).",
            details={"uri": uri},
        )
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise InvalidParams("A file:// artifact-store URI needs an absolute path.", details={"uri": uri})
    return LocalArtifactStore(Path(path))


def _open_by_module(module_name: str, scheme: str) -> StoreFactory:
    """A factory that imports ``module_name`` on first use and calls its ``open_store(uri)``."""

    def factory(uri: str) -> ArtifactStore:
        if importlib.util.find_spec(module_name) is None:
            raise InvalidParams(
                f"{scheme}:// artifact stores are not available in this build; "
                f"available schemes: {', '.join(_available())}.",
                details={"scheme": scheme, "available": _available()},
            )
        opened: ArtifactStore = importlib.import_module(module_name).open_store(uri)
        return opened

    return factory


# Read-only: the set of backends is fixed at build time, not mutated at run time.
STORE_SCHEMES: Mapping[str, StoreFactory] = MappingProxyType(
    {
        "file": _open_file_store,
        "s3": _open_by_module("limelight.artifacts.s3", "s3"),
    }
)


def _available() -> list[str]:
    available = ["file"]
    for scheme in STORE_SCHEMES:
        if scheme != "file" and importlib.util.find_spec(f"limelight.artifacts.{scheme}") is not None:
            available.append(scheme)
    return available


def open_store(uri: str) -> ArtifactStore:
    """Open the artifact store ``uri`` names: ``file:///abs/path``, a bare path, or ``s3://bucket/prefix``."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidParams("An artifact-store URI is required.", details={"uri": repr(uri)})
    scheme, sep, _ = uri.partition("://")
    if not sep:
        if ":" in uri.split("/", 1)[0] and not uri.startswith("/"):
            # "s3:bucket" or "C:\\x": looks like a scheme without "//"; refuse rather than guess.
            raise InvalidParams("Unrecognised artifact-store URI.", details={"uri": uri})
        return LocalArtifactStore(Path(uri).expanduser())
    factory = STORE_SCHEMES.get(scheme.lower())
    if factory is None:
        raise InvalidParams(
            f"Unknown artifact-store scheme {scheme!r}; registered schemes: {', '.join(STORE_SCHEMES)}.",
            details={"scheme": scheme, "registered": list(STORE_SCHEMES)},
        )
    return factory(uri)
