"""The local store's staging area: private temp files and directories, and durable hand-over.

Everything a write creates lives here until its bytes are fsynced: ``write-*.part`` files (0o600, from
``mkstemp``) for streamed uploads and ``stage-*`` directories (0o700, from ``mkdtemp``) for producers
that write a file themselves. The store then moves the file to its content address.

A writer holds an exclusive ``flock`` on its entry (the ``write-*.part`` file, the ``stage-*``
directory) from creation until it is done. The collector takes only entries it can lock itself, so
an upload that stalls or a training job that runs longer than any grace period keeps its staging;
the kernel drops the lock when the writer's process dies, SIGKILL included, which is exactly when
its leftovers become garbage.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from limelight.artifacts.store import DEFAULT_CHUNK_BYTES, BlobRef
from limelight.errors import Conflict, InvalidParams, PayloadTooLarge
from limelight.private_paths import make_private_dirs as make_dirs

__all__ = [
    "BlobWriter",
    "Placer",
    "StagedFile",
    "check_max_bytes",
    "claim_abandoned",
    "fsync_dir",
    "hold_for_writing",
    "make_dirs",
    "private_dir",
]

Placer = Callable[[Path, str, int], BlobRef]  # (durable staging file, sha256, size) -> stored ref


def private_dir(path: Path) -> Path:
    make_dirs(path)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hold_for_writing(path: Path) -> int:
    """Lock a staging entry this process just created; the returned descriptor is the lock (close it
    to let go). Blocking: a collector may hold the lock for the instant it takes to look."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def claim_abandoned(path: Path) -> Iterator[bool]:
    """``True`` while this process holds the lock of a staging entry no writer holds (remove it
    inside the block); ``False`` if a writer is at work on it or it is gone already.

    Anything that cannot carry a lock (a symlink) has no writer either.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        yield False
        return
    except OSError:
        yield True
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


def check_max_bytes(max_bytes: int) -> None:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise InvalidParams(
            "max_bytes must be a non-negative integer.", details={"max_bytes": repr(max_bytes)}
        )


def too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The artifact is larger than the limit of {max_bytes} bytes.", details={"max_bytes": max_bytes}
    )


class BlobWriter:
    """One write in progress: a 0o600 temp file, a running sha256 and a byte count.

    ``write``, ``finish`` and ``abort`` share a lock so an abort from the event loop (a cancelled
    upload) never closes the descriptor under a worker thread that is still writing to it. The
    file's staging lock is held on a descriptor of its own until :meth:`release`, so it outlasts
    ``finish`` until the store has moved the file to its address.
    """

    def __init__(self, staging: Path, max_bytes: int) -> None:
        fd, name = tempfile.mkstemp(dir=staging, prefix="write-", suffix=".part")  # mkstemp: 0o600
        self.path = Path(name)
        self._held: int | None = hold_for_writing(self.path)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self.size_bytes = 0

    def count(self, chunk: bytes) -> None:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"artifact chunks must be bytes, not {type(chunk).__name__}")
        self.size_bytes += len(chunk)
        if self.size_bytes > self._max_bytes:
            raise too_large(self._max_bytes)

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._file is None:
                raise RuntimeError("write after the blob writer was closed")
            self._hash.update(chunk)
            self._file.write(chunk)

    def finish(self) -> str:
        with self._lock:
            if self._file is None:
                raise RuntimeError("finish after the blob writer was closed")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            return self._hash.hexdigest()

    def abort(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self.path.unlink(missing_ok=True)

    def release(self) -> None:
        with self._lock:
            if self._held is not None:
                os.close(self._held)
                self._held = None


class StagedFile:
    """A file in a private ``stage-*`` directory; see :class:`limelight.artifacts.store.StagedBlob`."""

    def __init__(self, place: Placer, staging: Path, suffix: str) -> None:
        self._place = place
        self._dir = Path(tempfile.mkdtemp(dir=staging, prefix="stage-"))  # mkdtemp: 0o700
        self._held: int | None = hold_for_writing(self._dir)
        self._path = self._dir / f"blob{suffix}"
        os.close(os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self._ref: BlobRef | None = None

    @property
    def path(self) -> Path:
        return self._path

    def commit(self, *, max_bytes: int | None = None) -> BlobRef:
        if self._ref is not None:
            raise Conflict("This staged blob was already committed.")
        if max_bytes is not None:
            check_max_bytes(max_bytes)
        # O_NOFOLLOW: a producer that left a symlink here must not get an outside file stored.
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:  # ELOOP for a symlink, ENOENT if the producer removed it
            raise InvalidParams("A staged blob must be a regular file at its staged path.") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InvalidParams("A staged blob must be a regular file at its staged path.")
        with os.fdopen(fd, "rb") as handle:
            digest, size_bytes = hashlib.sha256(), 0
            while chunk := handle.read(DEFAULT_CHUNK_BYTES):
                size_bytes += len(chunk)
                if max_bytes is not None and size_bytes > max_bytes:
                    raise too_large(max_bytes)
                digest.update(chunk)
            os.fsync(fd)
        self._ref = self._place(self._path, digest.hexdigest(), size_bytes)
        return self._ref

    def discard(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
        if self._held is not None:  # removed first: no collector can claim the directory meanwhile
            os.close(self._held)
            self._held = None
