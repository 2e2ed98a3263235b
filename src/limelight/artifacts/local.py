"""The local-directory artifact store.

Layout under ``root``::

    blobs/sha256/ab/cdef…    one read-only (0o400) file per blob, named by its digest after the shard
    staging/                 0o700; in-progress writes (``write-*.part``) and staged dirs (``stage-*``),
                             each locked by its writer (see ``staging``); ``reap-*``: a blob being collected

A blob reaches ``blobs/`` only by ``os.replace`` from ``staging/`` (same file system, so the rename is
atomic) after its bytes were fsynced; the shard directory is fsynced after the rename so the name
survives a power cut too.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from limelight.artifacts.staging import (
    BlobWriter,
    StagedFile,
    check_max_bytes,
    claim_abandoned,
    fsync_dir,
    make_dirs,
    private_dir,
)
from limelight.artifacts.store import DEFAULT_CHUNK_BYTES, BlobRef, GcReport, chunks_of, validate_sha256
from limelight.errors import Conflict, InvalidParams, NotFound

__all__ = ["LocalArtifactStore"]

_ASYNC_FLUSH_BYTES = 1024 * 1024  # batch small async chunks so each thread hop writes ~1 MiB
_SUFFIX = re.compile(r"(\.[a-z0-9]{1,16}){0,2}")


class LocalArtifactStore:
    """An :class:`~limelight.artifacts.store.ArtifactStore` in a directory of the local file system."""

    def __init__(self, root: Path) -> None:
        # The root may be an operator's directory: create it private, but leave an existing one's mode.
        self.root = make_dirs(Path(root)).resolve()
        self._blobs = private_dir(private_dir(self.root / "blobs") / "sha256")
        self._staging = private_dir(self.root / "staging")

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    # -- writing -------------------------------------------------------------------------------
    def write_stream(self, chunks: Iterable[bytes], *, max_bytes: int) -> BlobRef:
        check_max_bytes(max_bytes)
        writer = BlobWriter(self._staging, max_bytes)
        try:
            for chunk in chunks:
                writer.count(chunk)
                writer.write(chunk)
            return self._finish(writer)
        except BaseException:
            writer.abort()
            raise
        finally:
            writer.release()

    async def awrite_stream(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> BlobRef:
        check_max_bytes(max_bytes)
        writer = BlobWriter(self._staging, max_bytes)
        try:
            pending = bytearray()
            async for chunk in chunks:
                writer.count(chunk)  # on the loop, so the limit trips before any more I/O
                pending += chunk
                if len(pending) >= _ASYNC_FLUSH_BYTES:
                    data, pending = bytes(pending), bytearray()
                    await asyncio.to_thread(writer.write, data)
            if pending:
                await asyncio.to_thread(writer.write, bytes(pending))
            return await asyncio.to_thread(self._finish, writer)
        except BaseException:
            writer.abort()
            raise
        finally:
            writer.release()

    @contextmanager
    def stage(self, *, suffix: str = "") -> Iterator[StagedFile]:
        if not isinstance(suffix, str) or _SUFFIX.fullmatch(suffix) is None:
            raise InvalidParams(
                "suffix must look like '.npy' or '.tar.gz'.", details={"suffix": repr(suffix)}
            )
        staged = StagedFile(self._place, self._staging, suffix)
        try:
            yield staged
        finally:
            staged.discard()

    def _finish(self, writer: BlobWriter) -> BlobRef:
        return self._place(writer.path, writer.finish(), writer.size_bytes)

    def _place(self, source: Path, sha256: str, size_bytes: int) -> BlobRef:
        """Move a durable staging file to its content address (or drop it if already stored)."""
        target = self._blob_path(sha256)
        try:
            if target.stat().st_size == size_bytes:
                # Refresh the age first, so a gc pass cannot reap a blob a new upload is about to
                # reference; if gc won the race, utime fails and we store our copy below.
                os.utime(target)
                source.unlink()
                return BlobRef(sha256, size_bytes)
        except FileNotFoundError:
            pass
        shard_created = not target.parent.exists()
        private_dir(target.parent)
        if shard_created:
            fsync_dir(self._blobs)
        try:
            # A blob's age starts when it is placed, not at its last write: validation may have
            # taken a while, and the row that will reference it is not committed yet.
            os.utime(source)
            source.chmod(0o400)
            os.replace(source, target)
        except FileNotFoundError:  # gc took a staging file older than its older_than_s
            raise Conflict(
                "The upload's staging file was garbage-collected before it finished; retry."
            ) from None
        fsync_dir(target.parent)
        return BlobRef(sha256, size_bytes)

    # -- reading -------------------------------------------------------------------------------
    def _blob_path(self, sha256: str) -> Path:
        validate_sha256(sha256)
        return self._blobs / sha256[:2] / sha256[2:]

    def _existing(self, sha256: str) -> Path:
        path = self._blob_path(sha256)
        if not path.is_file():
            raise NotFound("No such artifact.", details={"sha256": sha256})
        return path

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self._blob_path(sha256).open("rb")
        except FileNotFoundError:
            raise NotFound("No such artifact.", details={"sha256": sha256}) from None

    def iter_bytes(self, sha256: str, chunk_size: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
        if chunk_size <= 0:
            raise InvalidParams("chunk_size must be positive.")
        return chunks_of(self.open(sha256), chunk_size)  # open raises NotFound now, not at the first next()

    def local_path(self, sha256: str) -> Path:
        return self._existing(sha256)

    def exists(self, sha256: str) -> bool:
        return self._blob_path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self._existing(sha256).stat().st_size

    def verify(self, sha256: str) -> bool:
        digest = hashlib.sha256()
        for chunk in self.iter_bytes(sha256):
            digest.update(chunk)
        return digest.hexdigest() == sha256

    # -- removing ------------------------------------------------------------------------------
    def delete(self, sha256: str) -> bool:
        try:
            self._blob_path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def list_refs(self) -> Iterator[BlobRef]:
        for shard in sorted(self._blobs.iterdir()):
            if not shard.is_dir():
                continue
            for blob in shard.iterdir():
                digest = shard.name + blob.name
                if re.fullmatch(r"[0-9a-f]{64}", digest) and blob.is_file():
                    yield BlobRef(digest, blob.stat().st_size)

    def gc(self, referenced: set[str], *, older_than_s: float, dry_run: bool = False) -> GcReport:
        cutoff = time.time() - older_than_s
        blobs: list[str] = []
        bytes_freed = 0
        for ref in list(self.list_refs()):
            if ref.sha256 in referenced or self._mtime(self._blob_path(ref.sha256)) > cutoff:
                continue
            if dry_run or self._reap(ref.sha256, cutoff):
                blobs.append(ref.sha256)
                bytes_freed += ref.size_bytes
        staging, staging_bytes = self._gc_staging(cutoff, dry_run)
        return GcReport(len(blobs), bytes_freed, len(staging), staging_bytes, tuple(blobs), tuple(staging))

    def _reap(self, sha256: str, cutoff: float) -> bool:
        """Remove an unreferenced blob unless a writer re-used it since it was judged old.

        A writer storing the same bytes refreshes the blob's mtime and then relies on it. Between
        our look and an unlink that refresh could slip in, so the blob is first moved aside (locked,
        so no other collector takes it from staging), its age read again, and put back if it turned
        young. A writer that comes after the move finds no blob and stores its own.
        """
        path = self._blob_path(sha256)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return False  # another collector was faster
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # another collector is at it
            aside = self._staging / f"reap-{secrets.token_hex(8)}"
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                return False
            if aside.lstat().st_mtime > cutoff:  # what was moved, even if a repair replaced the file
                with suppress(FileExistsError):  # that writer stored its own copy meanwhile
                    os.link(aside, path)
                aside.unlink()
                return False
            aside.unlink()
            return True
        finally:
            os.close(fd)

    @staticmethod
    def _mtime(path: Path) -> float:
        """Newest mtime of a file or of a directory and its children; +inf if it vanished meanwhile."""
        try:
            children = list(path.iterdir()) if path.is_dir() and not path.is_symlink() else []
            return max([path.lstat().st_mtime] + [child.lstat().st_mtime for child in children])
        except FileNotFoundError:
            return float("inf")  # a concurrent commit or delete took it: not ours to remove

    @staticmethod
    def _bytes(path: Path) -> int:
        try:
            if path.is_dir() and not path.is_symlink():
                return sum(child.lstat().st_size for child in path.rglob("*") if not child.is_dir())
            return path.lstat().st_size
        except FileNotFoundError:
            return 0

    def _gc_staging(self, cutoff: float, dry_run: bool) -> tuple[list[str], int]:
        removed: list[str] = []
        freed = 0
        for entry in list(self._staging.iterdir()):
            # A stage-* dir is alive while its file is still being written, hence the newest mtime.
            if self._mtime(entry) > cutoff:
                continue
            with claim_abandoned(entry) as abandoned:  # a writer still at work holds its lock
                if not abandoned:
                    continue
                size = self._bytes(entry)
                if not dry_run:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
            removed.append(entry.name)
            freed += size
        return removed, freed
