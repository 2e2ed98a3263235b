"""The artifact store contract: immutable blobs addressed by the sha256 of their bytes.

Every backend (the local directory today, S3 later) implements :class:`ArtifactStore` and passes the
same contract suite (``tests/artifacts/test_store_contract.py``). The rules every backend keeps:

* the only key is a validated lowercase 64-hex sha256 (:func:`validate_sha256`); no path or object key
  is ever built from user input;
* a write is all or nothing: bytes go to a private staging name while being hashed and counted, and
  appear under their content address only after the last byte is durable. A failure, a cancellation
  or ``max_bytes`` being crossed leaves nothing behind;
* writing bytes that are already stored is a no-op that returns the same :class:`BlobRef`;
* temporary files are ``0o600`` and directories ``0o700``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from limelight.errors import InvalidPath

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "ArtifactStore",
    "BlobRef",
    "GcReport",
    "StagedBlob",
    "chunks_of",
    "validate_sha256",
]

DEFAULT_CHUNK_BYTES = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_sha256(sha256: str) -> str:
    """Return ``sha256`` if it is a lowercase 64-hex digest, else raise ``InvalidPath``."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise InvalidPath(
            "An artifact key must be a lowercase hex sha256 digest (64 characters).",
            details={"reason": "not a sha256 digest", "key": repr(sha256)[:80]},
        )
    return sha256


def chunks_of(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """``handle`` read in chunks of at most ``chunk_size`` bytes, closed at the end (``iter_bytes``)."""
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where a blob lives: its content address and its size."""

    sha256: str
    size_bytes: int

    def __post_init__(self) -> None:
        validate_sha256(self.sha256)
        if self.size_bytes < 0:
            raise ValueError("size_bytes must be >= 0")


@dataclass(frozen=True, slots=True)
class GcReport:
    """What one garbage-collection pass removed (or, in a dry run, would remove).

    ``blobs`` and ``staging`` name what was taken: digests, and staging entry names.
    """

    blobs_removed: int
    bytes_freed: int
    staging_removed: int
    staging_bytes_freed: int = 0
    blobs: tuple[str, ...] = ()
    staging: tuple[str, ...] = ()


class StagedBlob(Protocol):
    """A private file a caller fills itself (a trainer's model, a normaliser's Parquet).

    ``path`` is inside the store's staging area, in a directory only this process's user can enter.
    ``commit()`` hashes the file, makes it durable and moves it to its content address; leaving the
    ``with`` block without committing deletes it.
    """

    @property
    def path(self) -> Path: ...

    def commit(self, *, max_bytes: int | None = None) -> BlobRef: ...


@runtime_checkable
class ArtifactStore(Protocol):
    """Content-addressed blob storage. See the module docstring for the rules every backend keeps."""

    def write_stream(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        """Store the concatenated chunks; raise ``PayloadTooLarge`` once more than ``max_bytes`` arrive."""
        ...

    async def awrite_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> BlobRef:
        """The async twin of :meth:`write_stream`; file I/O runs off the event loop."""
        ...

    def stage(self, *, suffix: str = "") -> AbstractContextManager[StagedBlob]:
        """A staging file for producers that write a file themselves (``suffix`` like ``.npy``)."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A binary reader of the blob; ``NotFound`` if absent."""
        ...

    def iter_bytes(self, sha256: str, chunk_size: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
        """The blob in chunks of at most ``chunk_size`` bytes; ``NotFound`` if absent."""
        ...

    def local_path(self, sha256: str) -> Path:
        """A local file holding the blob, for runtimes that need a path (remote stores: a cached copy).

        Treat it as read-only: it is the stored blob itself for the local backend.
        """
        ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int:
        """Size in bytes; ``NotFound`` if absent."""
        ...

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored bytes; ``True`` when they still match the address."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the blob; ``True`` if it existed."""
        ...

    def list_refs(self) -> Iterator[BlobRef]:
        """Every stored blob, in no particular order (for garbage collection and audits)."""
        ...

    def gc(self, referenced: set[str], *, older_than_s: float, dry_run: bool = False) -> GcReport:
        """Remove unreferenced blobs and abandoned staging files older than ``older_than_s``.

        The age guard protects a blob that was just written but whose metadata row is not committed
        yet: the registry writes blobs first and references them second; storing bytes that are
        already stored refreshes the blob's age for the same reason. A write or stage still in
        progress in any process is never taken, whatever its age; one whose process died is.
        Safe to run concurrently with writes and with another ``gc``: what vanished meanwhile is
        skipped, not an error.
        ``dry_run`` reports what would go and removes nothing.
        """
        ...
