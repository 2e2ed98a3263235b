"""Documents datasets from files: Markdown, text, HTML, PDF, zip and tar archives, FAQ CSVs.

Runs the real ingest pipeline (the one the upload route calls) into a Parquet file and reads it back.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from limelight.datasets.ingest import IngestOptions, ingest, read_normalized
from limelight.datasets.ingest.archive import ArchiveLimits
from limelight.errors import ArchiveTooLarge, ArchiveUnsafe, DatasetInvalid
from tests.assistant import documents_data as data


def _ingest(tmp_path: Path, payload: bytes, filename: str, options: IngestOptions | None = None,
            content_type: str | None = None):  # type: ignore[no-untyped-def]
    dest = tmp_path / "out.parquet"
    result = ingest(io.BytesIO(payload), kind="documents", filename=filename, content_type=content_type,
                    dest=dest, options=options)
    rows = {row["doc_id"]: row for row in read_normalized(dest).to_pylist()}
    return result, rows


def test_a_markdown_file_is_one_document_titled_by_its_first_heading(tmp_path):
    result, rows = _ingest(tmp_path, data.MARKDOWN, "refund-policy.md")
    assert result.format == "markdown" and result.rows == 1
    assert rows["refund-policy"]["title"] == "Refund policy"
    assert "within **48 hours**" in rows["refund-policy"]["text"]  # Markdown kept: the chunker reads it


def test_html_keeps_visible_text_with_headings_and_drops_scripts(tmp_path):
    result, rows = _ingest(tmp_path, data.HTML, "cast.html")
    doc = rows["cast"]
    assert result.format == "html" and doc["title"] == "Casting help"
    assert "# Casting" in doc["text"] and "Phone and TV must share one Wi-Fi." in doc["text"]
    assert "- Open the app" in doc["text"] and "steal" not in doc["text"] and "color" not in doc["text"]


def test_a_pdf_gives_its_page_text_and_metadata_title(tmp_path):
    result, rows = _ingest(tmp_path, data.pdf_bytes(), "downloads.pdf")
    assert result.format == "pdf"
    assert rows["downloads"] == {"doc_id": "downloads", "title": "Downloads",
                                 "text": "Downloads expire after 30 days."}
    _, untitled = _ingest(tmp_path, data.pdf_bytes("Casting needs one Wi-Fi.", title=None), "cast.pdf")
    assert untitled["cast"]["title"] == "Casting needs one Wi-Fi."  # no metadata: the first line


def test_a_text_file_is_a_document_titled_by_its_first_line(tmp_path):
    result, rows = _ingest(tmp_path, data.TEXT, "gift-cards.txt")
    assert result.format == "text" and rows["gift-cards"]["title"] == "Gift cards"


def test_a_zip_becomes_one_document_per_file_with_a_report(tmp_path):
    payload = data.zip_of({"kb/billing/refunds.md": data.MARKDOWN, "kb/cast.html": data.HTML,
                           "kb/downloads.pdf": data.pdf_bytes(), "kb/gift.txt": data.TEXT,
                           "kb/logo.png": b"\x89PNG\r\n", "kb/.DS_Store": b"junk", "kb/empty.md": b"  \n"})
    result, rows = _ingest(tmp_path, payload, "kb.zip")
    assert result.format == "zip" and sorted(rows) == ["billing/refunds", "cast", "downloads", "gift"]
    assert rows["billing/refunds"]["title"] == "Refund policy"
    report = {f["path"]: f for f in result.profile["files"]}
    assert report["kb/billing/refunds.md"] == {"path": "kb/billing/refunds.md", "status": "ok",
                                               "doc_id": "billing/refunds"}
    assert report["kb/logo.png"]["reason"] == "not a document type"
    assert report["kb/.DS_Store"]["reason"] == "hidden or system file"
    assert report["kb/empty.md"]["reason"] == "no text"
    assert result.warnings == ["3 file(s) skipped; see profile.files."]


def test_a_tar_gz_is_read_like_a_zip(tmp_path):
    payload = data.tar_of({"help/refunds.md": data.MARKDOWN, "help/gift.txt": data.TEXT}, gz=True)
    result, rows = _ingest(tmp_path, payload, "help.tar.gz")
    assert result.format == "tar" and sorted(rows) == ["gift", "refunds"]


def test_a_question_answer_csv_becomes_documents(tmp_path):
    payload = b"Question,Answer\nHow do I pay?,With a card or PayPal.\n\"Can I, a student, get a discount?\",Yes: 50%.\nBlank?,\n"
    result, rows = _ingest(tmp_path, payload, "faq.csv")
    assert result.format == "qa-csv" and result.rows == 2
    assert rows["faq-2"] == {"doc_id": "faq-2", "title": "Can I, a student, get a discount?", "text": "Yes: 50%."}
    assert result.profile["files"][2] == {"path": "row 3", "status": "skipped", "reason": "no answer"}


def test_ordinary_documents_csv_still_reads_as_rows(tmp_path):
    result, rows = _ingest(tmp_path, b"doc_id,title,text\nd1,One,First text\n", "docs.csv")
    assert result.format == "csv" and rows["d1"]["text"] == "First text"


@pytest.mark.parametrize("name", ["../evil.md", "kb/../../evil.md", "/etc/evil.md", "C:\\evil.md"])
def test_archive_paths_that_escape_are_refused_whole(tmp_path, name):
    payload = data.zip_of({"kb/fine.md": data.MARKDOWN, name: data.MARKDOWN})
    with pytest.raises(ArchiveUnsafe) as caught:
        _ingest(tmp_path, payload, "kb.zip")
    assert caught.value.status == 422 and caught.value.details["path"] == name
    assert not (tmp_path / "out.parquet").exists()


def test_tar_path_escape_is_refused(tmp_path):
    with pytest.raises(ArchiveUnsafe):
        _ingest(tmp_path, data.tar_of({"../../evil.md": data.MARKDOWN}), "kb.tar")


def test_symlinks_are_skipped_and_reported(tmp_path):
    result, rows = _ingest(tmp_path, data.zip_with_symlink(), "kb.zip")
    assert list(rows) == ["refunds"]
    assert {"path": "help/passwd.md", "status": "skipped", "reason": "symbolic link"} in result.profile["files"]
    tar_result, tar_rows = _ingest(tmp_path, data.tar_of({"help/refunds.md": data.MARKDOWN},
                                                         symlink="help/shadow.md"), "kb.tar")
    assert list(tar_rows) == ["refunds"]
    assert {"path": "help/shadow.md", "status": "skipped", "reason": "symbolic link"} in tar_result.profile["files"]


def test_a_zip_bomb_is_refused_by_its_compression_ratio_before_unpacking(tmp_path):
    payload = data.zip_of({"bomb.txt": b"0" * (20 << 20)})  # 20 MiB of zeros deflate to ~20 KiB
    assert len(payload) < 100_000
    with pytest.raises(ArchiveTooLarge) as caught:
        _ingest(tmp_path, payload, "kb.zip")
    assert caught.value.status == 413 and caught.value.details["reason"] == "compression ratio"
    assert not (tmp_path / "out.parquet").exists()


def test_too_many_files_and_too_many_bytes_are_refused(tmp_path):
    options = IngestOptions(archive=ArchiveLimits(max_files=5, max_total_bytes=1_000))
    many = data.zip_of({f"doc{n}.txt": b"text %d" % n for n in range(6)})
    with pytest.raises(ArchiveTooLarge) as caught:
        _ingest(tmp_path, many, "kb.zip", options)
    assert caught.value.details["reason"] == "too many files"
    big = data.zip_of({"a.txt": b"a" * 600, "b.txt": b"b" * 600}, compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveTooLarge) as caught:
        _ingest(tmp_path, big, "kb.zip", options)
    assert caught.value.details["reason"] == "too large unpacked"


@pytest.mark.parametrize("payload, filename", [
    (data.zip_of({"logo.png": b"\x89PNG", "notes/.hidden.md": b"# x\n\ntext"}), "kb.zip"),
    (b"   \n\n", "empty.md"),
    (b"<html><head><title>Only a title</title></head><body><script>x()</script></body></html>", "a.html"),
    (b"question,answer\nAnything?,\n", "faq.csv"),
])
def test_no_usable_text_is_refused_422_and_nothing_is_written(tmp_path, payload, filename):
    with pytest.raises(DatasetInvalid) as caught:
        _ingest(tmp_path, payload, filename)
    assert caught.value.status == 422
    assert not list(tmp_path.iterdir())


def test_two_files_mapping_to_one_doc_id_are_refused(tmp_path):
    with pytest.raises(DatasetInvalid) as caught:
        _ingest(tmp_path, data.zip_of({"a.md": data.MARKDOWN, "a.txt": data.TEXT}), "kb.zip")
    assert caught.value.details["duplicates"] == [{"doc_id": "a", "paths": ["a.md", "a.txt"]}]


def test_a_corrupt_zip_is_a_clear_4xx(tmp_path):
    with pytest.raises(ArchiveUnsafe) as caught:
        _ingest(tmp_path, b"PK\x03\x04" + b"\x00" * 200, "kb.zip")
    assert caught.value.details["reason"] == "unreadable"
