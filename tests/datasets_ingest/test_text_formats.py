"""CSV delimiter sniffing, encodings, ISO-8601 timestamps, format detection, odd sources."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from limelight.datasets.ingest import detect_format, ingest, read_normalized
from limelight.errors import UnsupportedMediaType
from tests.datasets_ingest.conftest import encode, run


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), ("\t", "tab"), (";", "semicolon"), ("|", "bar")])
def test_delimiter_is_sniffed(delimiter: str, name: str, dest: Path) -> None:
    # Titles hold the other candidates, quoted where needed, so that only one splits consistently.
    rows = [["item_id", "title", "genres"], ["1", "Heat, the film; 1995", "Action|Crime"],
            ["2", "Up; or, balloons", "Animation|Family"]]
    quote = {",": '"', "\t": "", ";": '"', "|": '"'}[delimiter]

    def cell(value: str) -> str:
        return f"{quote}{value}{quote}" if quote and any(c in value for c in ",;|") else value

    data = "\n".join(delimiter.join(cell(v) for v in row) for row in rows).encode() + b"\n"
    result = run(data, "items", dest)

    assert result.delimiter == delimiter
    assert read_normalized(dest).column("title").to_pylist() == ["Heat, the film; 1995", "Up; or, balloons"]


def test_one_column_file(dest: Path) -> None:
    result = run(b"user_id\nu1\nu2\n\nu3\n", "users", dest)

    assert result.rows == 3
    assert read_normalized(dest).column("user_id").to_pylist() == ["u1", "u2", "u3"]


def test_latin1_fallback_even_when_the_odd_byte_comes_late(dest: Path) -> None:
    rows = b"".join(b"%d,Title %d\n" % (i, i) for i in range(10_000))  # ~150 KiB of ASCII first
    data = b"item_id,title\n" + rows + "10000,Amélie\n".encode("latin-1")
    result = run(data, "items", dest)

    assert result.encoding == "latin-1"
    assert any("Latin-1" in w for w in result.warnings)
    assert read_normalized(dest).column("title")[-1].as_py() == "Amélie"


def test_utf8_with_bom_and_multibyte_text(dest: Path) -> None:
    data = "\ufeffitem_id,title\n1,Amélie\n2,千と千尋の神隠し\n".encode()
    result = run(data, "items", dest)

    assert (result.encoding, result.warnings) == ("utf-8", [])
    assert read_normalized(dest).column("title").to_pylist() == ["Amélie", "千と千尋の神隠し"]


def test_utf16_with_bom(dest: Path) -> None:
    data = "item_id\ttitle\n1\tAmélie\n".encode("utf-16")  # what spreadsheet "Unicode text" exports
    result = run(data, "items", dest)

    assert (result.encoding, result.delimiter) == ("utf-16", "\t")
    assert read_normalized(dest).column("title").to_pylist() == ["Amélie"]


def test_iso_timestamps_become_epoch_seconds(dest: Path) -> None:
    def epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
        return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())

    values = {
        "1537799250": 1537799250,
        "1537799250.9": 1537799250,
        "2018-09-24": epoch(2018, 9, 24),
        "2018-09-24T14:27:30": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24 14:27:30": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24T14:27:30.750": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24T14:27:30Z": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24T16:27:30+02:00": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24T09:27:30-0500": epoch(2018, 9, 24, 14, 27, 30),
        "2018-09-24T14:27": epoch(2018, 9, 24, 14, 27),
    }
    rows = [{"user_id": "u", "item_id": str(i), "timestamp": v} for i, v in enumerate(values)]
    for fmt in ("csv", "jsonl"):
        run(encode(rows, fmt), "interactions", dest)
        assert read_normalized(dest).column("timestamp").to_pylist() == list(values.values()), fmt


def test_parquet_timestamps_and_dates_become_epoch_seconds(dest: Path) -> None:
    import pyarrow as pa

    from tests.datasets_ingest.conftest import parquet_bytes

    moment = datetime(2018, 9, 24, 14, 27, 30, tzinfo=UTC)
    table = pa.table({
        "user_id": ["a", "b", "c"], "item_id": ["x", "y", "z"],
        "timestamp": pa.array([moment, moment, None], pa.timestamp("ms", tz="Europe/Paris")),
    })
    run(parquet_bytes(table), "interactions", dest)
    assert read_normalized(dest).column("timestamp").to_pylist() == [int(moment.timestamp())] * 2 + [None]


@pytest.mark.parametrize(("head", "filename", "content_type", "expected"), [
    (b"PAR1....", "ratings.csv", "text/csv", "parquet"),           # the magic wins over declarations
    (b"a,b\n1,2\n", None, None, "csv"),
    (b'{"a": 1}\n', None, None, "jsonl"),
    (b'{"a": 1}\n', "x.txt", None, "csv"),                          # declared text wins among text formats
    (b"a,b\n", "data.bin", "application/vnd.ms-excel", "csv"),      # what Windows browsers send for .csv
    (b'{"a": 1}\n', None, "application/x-ndjson; charset=utf-8", "jsonl"),
    (b"a\tb\n", "x.TSV", None, "csv"),
])
def test_format_detection(head: bytes, filename: str | None, content_type: str | None, expected: str) -> None:
    assert detect_format(head, filename, content_type) == expected


@pytest.mark.parametrize(("head", "filename", "content_type"), [
    (b"\x1f\x8b\x08\x00", "ratings.csv.gz", None),
    (b"PK\x03\x04", "ratings.xlsx", None),
    (b"a,b\n1,2\n", "x.parquet", None),
    (b"a,b\n", None, "application/vnd.apache.parquet"),
    (b"\x00\x01\x02binary", None, None),
    (b'[{"a": 1}]', "x.json", None),
])
def test_unsupported_formats(head: bytes, filename: str | None, content_type: str | None, dest: Path) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        ingest(io.BytesIO(head), kind="items", filename=filename, content_type=content_type, dest=dest)
    assert caught.value.status == 415
    assert not dest.exists()


class _Stream(io.RawIOBase):
    """A non-seekable source, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_sources_path_non_seekable_stream_and_open_file(tmp_path: Path, dest: Path) -> None:
    data = b"user_id,item_id\nu1,i1\nu2,i2\n"
    path = tmp_path / "upload.bin"
    path.write_bytes(data)

    assert ingest(path, kind="interactions", dest=dest).rows == 2
    assert ingest(str(path), kind="interactions", dest=dest).rows == 2
    assert ingest(io.BufferedReader(_Stream(data)), kind="interactions", dest=dest).rows == 2
    with path.open("rb") as handle:
        handle.read(5)  # a caller's file is read from its start, whatever its position
        assert ingest(handle, kind="interactions", dest=dest).rows == 2
        assert not handle.closed


def test_jsonl_keys_after_the_first_batch_are_ignored_with_a_warning(dest: Path) -> None:
    from limelight.datasets.ingest import IngestOptions

    rows = [{"user_id": f"u{i}", "item_id": "i"} for i in range(10)] + [{"user_id": "u", "item_id": "i", "late": 1}]
    result = run(encode(rows, "jsonl"), "interactions", dest, options=IngestOptions(batch_rows=4))

    assert result.rows == 11
    assert read_normalized(dest).column_names == ["user_id", "item_id"]
    assert result.warnings == ["JSON key 'late' first appears on line 11, after the first batch of rows "
                               "fixed the columns; it was ignored."]
