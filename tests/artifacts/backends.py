"""The ArtifactStore implementations the contract suite runs against.

To add S3: one more entry in ``BACKENDS`` that opens a store on a test bucket (MinIO on loopback),
whose ``leftovers`` lists what a failed write could leave (incomplete multipart uploads, temp keys),
whose ``uri`` lets another process open the same store, and that skips when the server is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from limelight.artifacts import ArtifactStore, LocalArtifactStore


@dataclass
class Backend:
    name: str
    store: ArtifactStore
    leftovers: Callable[[], list[str]]  # what an aborted write might leave behind; must stay empty
    uri: str  # for open_store in another process (a writer that gets killed)


def local_backend(tmp_path: Path) -> Backend:
    store = LocalArtifactStore(tmp_path / "store")
    staging = store.root / "staging"
    return Backend("local", store, lambda: sorted(p.name for p in staging.iterdir()), store.root.as_uri())


BACKENDS: dict[str, Callable[[Path], Backend]] = {"local": local_backend}
