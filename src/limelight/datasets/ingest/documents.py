"""Uploads of a ``documents`` dataset that are not already rows: files, archives, Q&A tables.

* a zip or tar archive of Markdown, text, HTML or PDF files: one document per file, ``doc_id`` the
  file's path without its extension (a single top folder holding everything is dropped), the
  title from the first Markdown heading, the HTML ``<title>`` or first ``<h1>``, the PDF's
  metadata, or else the first line; files of other types are skipped and reported;
* one ``.md``, ``.txt``, ``.html`` or ``.pdf`` file: one document, ``doc_id`` its file name's stem;
* a CSV with ``question`` and ``answer`` columns (a FAQ): title = question, text = answer,
  ``doc_id`` from an ``id``/``doc_id`` column or ``faq-<row>``.

Each becomes a JSON Lines file of ``doc_id, title, text`` rows, which the ordinary pipeline then
validates, so the stored dataset is like any other. ``files`` reports what happened to each file;
a set with no usable text at all is refused (``DatasetInvalid``, 422) with that report.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from limelight.datasets.ingest.archive import ArchiveLimits, Member, archive_kind, read_members
from limelight.datasets.ingest.document_text import DocumentText, decode, document_type, extract
from limelight.datasets.ingest.kinds import column_key
from limelight.datasets.ingest.source import Source
from limelight.errors import ArchiveUnsafe, DatasetInvalid

REPORT_MAX_FILES = 1_000
QA_CSV = "qa-csv"
_QA_ID_KEYS = ("docid", "id", "documentid")


@dataclass
class DocumentRows:
    format: str  # zip, tar, markdown, text, html, pdf, qa-csv
    rows: list[dict[str, str]]
    files: list[dict[str, str]] = field(default_factory=list)

    def write_jsonl(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8") as out:
            for row in self.rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path

    def report(self) -> list[dict[str, str]]:
        return self.files[:REPORT_MAX_FILES]


def document_rows(source: Source, head: bytes, filename: str | None, content_type: str | None,
                  limits: ArchiveLimits) -> DocumentRows | None:
    """The upload as document rows, or ``None`` when it is an ordinary table (CSV, JSONL, Parquet)."""
    kind = archive_kind(head, filename)
    if kind is not None:
        return _checked(_from_archive(source, kind, limits))
    single = document_type(filename, content_type, head)
    if single is not None:
        source.file.seek(0)
        name = PurePosixPath((filename or "document").replace("\\", "/")).name
        found = DocumentRows(single, [])
        _add(found, name, single, source.file.read())
        return _checked(found)
    return _qa_rows(source, head)


def _from_archive(source: Source, kind: str, limits: ArchiveLimits) -> DocumentRows:
    found = DocumentRows(kind, [])
    skipped: list[dict[str, str]] = []
    try:
        members = list(read_members(source.file, kind, limits, skipped))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError) as exc:
        raise ArchiveUnsafe(f"The archive cannot be read: {exc}.", details={"reason": "unreadable"}) from None
    found.files.extend(skipped)
    root = _common_root([m.path for m in members])
    for member in members:
        _add_member(found, member, root)
    return found


def _add_member(found: DocumentRows, member: Member, root: str) -> None:
    doc_type = document_type(member.path, None, member.data[:8])
    if doc_type is None:
        found.files.append({"path": member.path, "status": "skipped", "reason": "not a document type"})
        return
    _add(found, member.path[len(root):] if root else member.path, doc_type, member.data, shown=member.path)


def _add(found: DocumentRows, relative: str, doc_type: str, data: bytes, shown: str | None = None) -> None:
    path = shown or relative
    extracted = extract(doc_type, data)
    if not isinstance(extracted, DocumentText):
        found.files.append({"path": path, "status": "skipped", "reason": extracted})
        return
    doc_id = str(PurePosixPath(relative).with_suffix(""))
    found.rows.append({"doc_id": doc_id, "title": extracted.title, "text": extracted.text})
    found.files.append({"path": path, "status": "ok", "doc_id": doc_id})


def _common_root(paths: list[str]) -> str:
    """``"kb/"`` when every file sits under one top folder ``kb``, else ``""``."""
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        return f"{tops.pop()}/"
    return ""


def _checked(found: DocumentRows) -> DocumentRows:
    if not found.rows:
        raise DatasetInvalid("The upload holds no document with usable text.",
                             details={"reason": "no documents", "files": found.report()})
    seen: dict[str, str] = {}
    clashes = []
    for entry in found.files:
        if entry.get("status") == "ok":
            if entry["doc_id"] in seen:
                clashes.append({"doc_id": entry["doc_id"], "paths": [seen[entry["doc_id"]], entry["path"]]})
            seen[entry["doc_id"]] = entry["path"]
    if clashes:
        raise DatasetInvalid(f"{len(clashes)} document id(s) come from two files (same path, other extension).",
                             details={"reason": "duplicate doc_id", "duplicates": clashes[:20]})
    return found


def _qa_rows(source: Source, head: bytes) -> DocumentRows | None:
    """A CSV whose header names ``question`` and ``answer`` (and no ``text``), else ``None``."""
    first_line = decode(head).splitlines()[0] if head.strip() else ""
    try:
        dialect: Any = csv.Sniffer().sniff(first_line, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    header = [column_key(name) for name in next(csv.reader([first_line], dialect), [])]
    if not {"question", "answer"} <= set(header) or "text" in header:
        return None
    source.file.seek(0)
    reader = csv.reader(io.StringIO(decode(source.file.read())), dialect)
    next(reader, None)
    q, a = header.index("question"), header.index("answer")
    id_column = next((header.index(k) for k in _QA_ID_KEYS if k in header), None)
    found = DocumentRows(QA_CSV, [])
    try:
        for number, row in enumerate(reader, start=1):
            _add_qa(found, number, row, q, a, id_column)
    except csv.Error as exc:
        raise DatasetInvalid(f"The question/answer CSV cannot be read: {exc}.",
                             details={"reason": "unreadable CSV", "line": reader.line_num}) from None
    return _checked(found)


def _add_qa(found: DocumentRows, number: int, row: list[str], q: int, a: int, id_column: int | None) -> None:
    def cell(i: int | None) -> str:
        return row[i].strip() if i is not None and i < len(row) else ""

    question, answer = cell(q), cell(a)
    if not answer:
        found.files.append({"path": f"row {number}", "status": "skipped", "reason": "no answer"})
        return
    doc_id = cell(id_column) or f"faq-{number}"
    found.rows.append({"doc_id": doc_id, "title": question, "text": answer})
    found.files.append({"path": f"row {number}", "status": "ok", "doc_id": doc_id})
