"""Which reader a file needs: from its first bytes, its declared content type, its file name.

The bytes win over what the client declares, because browsers label files loosely (Windows sends
``application/vnd.ms-excel`` for a ``.csv``): the Parquet magic always means Parquet, and a file
declared Parquet without it is refused. Declarations only choose between the text formats.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from limelight.errors import UnsupportedMediaType

CSV, PARQUET, JSONL = "csv", "parquet", "jsonl"
FORMATS = (CSV, PARQUET, JSONL)

PARQUET_MAGIC = b"PAR1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_CONTENT_TYPES = {
    "text/csv": CSV,
    "application/csv": CSV,
    "text/tab-separated-values": CSV,
    "text/tsv": CSV,
    "application/vnd.apache.parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "application/parquet": PARQUET,
    "application/jsonl": JSONL,
    "application/x-jsonlines": JSONL,
    "application/jsonlines": JSONL,
    "application/json-lines": JSONL,
    "application/x-ndjson": JSONL,
    "application/ndjson": JSONL,
}
_EXTENSIONS = {
    ".csv": CSV, ".tsv": CSV, ".tab": CSV, ".txt": CSV,
    ".parquet": PARQUET, ".pq": PARQUET,
    ".jsonl": JSONL, ".ndjson": JSONL, ".json": JSONL,
}
_REFUSED_MAGIC = {
    b"\x1f\x8b": "gzip-compressed",
    b"PK\x03\x04": "a zip archive (or an Excel workbook)",
    b"\xd0\xcf\x11\xe0": "an Excel 97 workbook",
    b"ARROW1": "an Arrow IPC file",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"BZh": "bzip2-compressed",
}


def detect_format(head: bytes, filename: str | None, content_type: str | None) -> str:
    """``csv``, ``parquet`` or ``jsonl`` for a file starting with ``head`` (a few KiB suffice)."""
    if head.startswith(PARQUET_MAGIC):
        return PARQUET
    for magic, what in _REFUSED_MAGIC.items():
        if head.startswith(magic):
            raise _unsupported(f"The file is {what}; upload uncompressed CSV, JSON Lines or Parquet.")
    declared = _declared_format(filename, content_type)
    if declared == PARQUET:
        raise _unsupported("The file is declared Parquet but does not start with the Parquet magic bytes.")
    if not _looks_like_text(head):
        raise _unsupported("The file is not CSV, JSON Lines or Parquet.")
    fmt = declared or (JSONL if _first_char(head) == "{" else CSV)
    if fmt == JSONL and _first_char(head) == "[":
        raise _unsupported("A JSON array is not supported; upload JSON Lines: one object per line.")
    return fmt


def _declared_format(filename: str | None, content_type: str | None) -> str | None:
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime in _CONTENT_TYPES:
            return _CONTENT_TYPES[mime]
    if filename:
        suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith(UTF16_BOMS):
        return True
    return b"\x00" not in head


def _first_char(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return chr(text[0]) if text else ""


def _unsupported(message: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(message, details={"formats": list(FORMATS)})
