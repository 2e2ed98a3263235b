"""The uploaded bytes as one seekable binary file, and the text encoding of a text upload."""

from __future__ import annotations

import codecs
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

COPY_CHUNK_BYTES = 1 << 20
HEAD_BYTES = 64 << 10


@dataclass(frozen=True)
class Source:
    """A seekable binary file, read from its start; ``path`` is set when it is a local file."""

    file: BinaryIO
    path: Path | None

    def head(self, size_bytes: int = HEAD_BYTES) -> bytes:
        self.file.seek(0)
        data = self.file.read(size_bytes)
        self.file.seek(0)
        return data

    def arrow_input(self) -> pa.NativeFile:
        """A pyarrow file over the same bytes (native reads when it is a local path)."""
        self.file.seek(0)
        if self.path is not None:
            return pa.OSFile(str(self.path), mode="r")
        return pa.PythonFile(self.file, mode="r")


@contextmanager
def open_source(source: BinaryIO | Path | str) -> Iterator[Source]:
    """Opens a path, or wraps a file object; a non-seekable stream is first spooled to disk."""
    if isinstance(source, str | Path):
        path = Path(source)
        with path.open("rb") as file:
            yield Source(file, path)
        return
    if source.seekable():
        yield Source(source, None)
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(source, spool, COPY_CHUNK_BYTES)
        yield Source(spool, None)


def text_encoding(source: Source) -> str:
    """``utf-16`` when a UTF-16 BOM says so, ``utf-8`` when every byte decodes, else ``latin-1``.

    Reads the whole file once in 1 MiB chunks (ASCII chunks skip decoding), so a single stray
    byte late in a big file still selects the fallback before any row is parsed. Latin-1 decodes
    any byte sequence, so the fallback never fails; the result reports which was used.
    """
    head = source.head(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    source.file.seek(0)
    try:
        while chunk := source.file.read(COPY_CHUNK_BYTES):
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    finally:
        source.file.seek(0)
    return "utf-8"
