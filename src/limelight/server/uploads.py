"""Streaming multipart uploads: the file part goes straight to the artifact store's staging area.

Starlette's form parser would spool the whole file before we could count it; here every chunk is
counted as it arrives, so one byte over the limit answers 413 at once and leaves nothing behind.
Small text fields are capped in number and size (python-multipart and Starlette CVEs).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from limelight.artifacts.store import ArtifactStore, StagedBlob
from limelight.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_FIELDS = 20
MAX_FIELD_BYTES = 256 * 1024


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    staged: StagedBlob | None = None
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int = 0


class _PartSink:
    """Collects one multipart body; the file part is written to ``staged``."""

    def __init__(self, staged: StagedBlob, file_field: str, max_file_bytes: int) -> None:
        self.staged = staged
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.upload = Upload(staged=None)
        self._headers: dict[bytes, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._name: str | None = None
        self._is_file = False
        self._buffer = bytearray()
        self._fh: IO[bytes] | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin, "on_part_data": self._part_data, "on_part_end": self._part_end,
            "on_header_field": self._header_field_cb, "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end, "on_headers_finished": self._headers_finished,
        }

    def _part_begin(self) -> None:
        self._headers, self._name, self._is_file, self._buffer = {}, None, False, bytearray()

    def _header_field_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise BadRequest("A multipart part has no name.")
        self._name = name.decode("utf-8", "replace")
        if self._name == self.file_field:
            if self.upload.staged is not None:
                raise BadRequest(f"Only one {self.file_field!r} part is allowed.")
            self._is_file = True
            # The client's filename is kept as a label only; it never becomes a path.
            raw_name = options.get(b"filename", b"")
            self.upload.filename = raw_name.decode("utf-8", "replace")[-255:] or None
            ctype = self._headers.get(b"content-type")
            self.upload.content_type = ctype.decode("latin-1") if ctype else None
            self.upload.staged = self.staged
            self._fh = open(self.staged.path, "wb")  # noqa: SIM115 - closed in _part_end/close
        elif len(self.upload.fields) >= MAX_FIELDS:
            raise BadRequest(f"At most {MAX_FIELDS} form fields are allowed.")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.upload.size_bytes += len(chunk)
            if self.upload.size_bytes > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"The file is larger than the limit of {self.max_file_bytes} bytes.",
                    details={"max_bytes": self.max_file_bytes},
                )
            assert self._fh is not None
            self._fh.write(chunk)
        else:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise PayloadTooLarge(f"Form field {self._name!r} is over {MAX_FIELD_BYTES} bytes.")

    def _part_end(self) -> None:
        if self._is_file:
            self.close()
        elif self._name is not None:
            self.upload.fields[self._name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            self._fh.close()
            self._fh = None


@contextlib.asynccontextmanager
async def receive_upload(
    request: Request, store: ArtifactStore, *, max_file_bytes: int, file_field: str = "file"
) -> AsyncIterator[Upload]:
    """Parse the request body; yields the fields and the staged (uncommitted) file.

    The staged file is deleted on exit unless the caller committed it.
    """
    content_type = request.headers.get("content-type", "")
    ctype, options = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or b"boundary" not in options:
        raise UnsupportedMediaType("Send the file as multipart/form-data.", details={"content_type": content_type[:100]})
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_file_bytes + MAX_FIELDS * MAX_FIELD_BYTES:
        raise PayloadTooLarge(f"The body is larger than the limit of {max_file_bytes} bytes.",
                              details={"max_bytes": max_file_bytes})
    with store.stage() as staged:
        sink = _PartSink(staged, file_field, max_file_bytes)
        parser = MultipartParser(options[b"boundary"], cast(Any, sink.callbacks()), max_header_count=8)
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except (PayloadTooLarge, BadRequest):
            raise
        except Exception as exc:  # the parser raises its own errors on malformed bodies
            raise BadRequest("Malformed multipart body.", details={"reason": str(exc)[:200]}) from exc
        finally:
            sink.close()
        if sink.upload.staged is None:
            raise BadRequest(f"The multipart body has no {file_field!r} file part.")
        yield sink.upload
