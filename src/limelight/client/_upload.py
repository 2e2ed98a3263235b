"""Streaming file uploads with a progress callback.

httpx streams a file object in a multipart body chunk by chunk (and takes its length from
``fstat``), so the file is never read whole; wrapping it lets the SDK count what was sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

UploadProgress = Callable[[int, int | None], None]
"""Called as ``on_progress(bytes_sent, total_bytes)`` while a file uploads; total is None when unknown."""

SourceFile = str | os.PathLike[str] | IO[bytes]


class ProgressReader:
    """A read-only binary file that reports every chunk httpx reads from it."""

    def __init__(self, raw: IO[bytes], on_progress: UploadProgress | None) -> None:
        self._raw = raw
        self._on_progress = on_progress
        self.total_bytes = _size_of(raw)
        self.sent_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.sent_bytes += len(chunk)
        if self._on_progress is not None and chunk:
            self._on_progress(self.sent_bytes, self.total_bytes)
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._raw.seek(offset, whence)
        if whence == os.SEEK_SET:
            self.sent_bytes = position  # httpx rewinds to 0 before streaming
        return position

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        self._raw.close()


def _size_of(raw: IO[bytes]) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        try:
            here = raw.tell()
            end = raw.seek(0, os.SEEK_END)
            raw.seek(here)
            return end
        except (AttributeError, OSError, ValueError):
            return None


@contextmanager
def upload_source(source: SourceFile, on_progress: UploadProgress | None) -> Iterator[tuple[ProgressReader, str]]:
    """(counting reader, filename to send); a path is opened here and closed after the upload.

    The filename is sent because the server reads the format from its extension (``.csv``, ``.parquet``).
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as raw:
            yield ProgressReader(raw, on_progress), path.name
        return
    name = getattr(source, "name", None)
    yield ProgressReader(source, on_progress), Path(name).name if isinstance(name, str) else "upload.bin"


def multipart_file(reader: ProgressReader, filename: str, content_type: str | None = None) -> tuple[Any, ...]:
    return (filename, reader, content_type or "application/octet-stream")
