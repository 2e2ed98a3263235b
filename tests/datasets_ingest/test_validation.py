"""Bad rows are reported by line and column with a stable reason; any bad row rejects the file."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from limelight.datasets.ingest import IngestOptions
from tests.datasets_ingest.conftest import errors, parquet_bytes, rejection, run


def test_each_value_problem_is_reported_at_its_line_and_column(dest: Path) -> None:
    data = (
        b"user_id,item_id,rating,weight,timestamp\n"   # line 1
        b"u1,i1,4.0,1,1600000000\n"                    # 2 fine
        b"u1,i2,abc,1,1600000000\n"                    # 3 rating not a number
        b" ,i3,4.0,1,1600000000\n"                     # 4 empty id
        b"u1,i4,4.0,1,yesterday\n"                     # 5 unparsable timestamp
        b"u1,i5,4.0,-2,1600000000\n"                   # 6 negative weight
        b"u1,i6,NaN,1,1600000000\n"                    # 7 NaN rating
        b"u1,i7,inf,1,1600000000\n"                    # 8 infinite rating
        b"u1,i8,4.0,1,1600000000000\n"                 # 9 milliseconds: out of range
        b"u1,i9,4.0,1,2021-02-30T10:00:00\n"           # 10 no such day
        b"u1,i10,-1,0,1600000000\n"                    # 11 fine: ratings may be negative, weights 0
    )
    details = rejection(data, "interactions", dest)

    assert errors(details) == [
        (3, "rating", "not a number"),
        (4, "user_id", "empty id"),
        (5, "timestamp", "unparsable timestamp"),
        (6, "weight", "negative value not allowed"),
        (7, "rating", "NaN not allowed"),
        (8, "rating", "infinite value not allowed"),
        (9, "timestamp", "timestamp out of range"),
        (10, "timestamp", "unparsable timestamp"),
    ]
    assert details["errors"][0]["value"] == "abc"
    assert (details["bad_rows"], details["rows_checked"]) == (8, 10)


def test_item_problems(dest: Path) -> None:
    data = b"item_id,title,year\n1,A,1999\n2,B,19x9\n1,C,2001\n3,D,-4\n"
    details = rejection(data, "items", dest)

    assert errors(details) == [(3, "year", "not an integer"), (4, "item_id", "duplicate id"),
                               (5, "year", "negative value not allowed")]


def test_required_text_and_label(dest: Path) -> None:
    details = rejection(b'text,label\n"   ",pos\nfine,\n', "labeled_text", dest)

    assert errors(details) == [(2, "text", "missing value"), (3, "label", "missing value")]


def test_source_column_names_are_reported(dest: Path) -> None:
    details = rejection(b"userId,movieId,rating\n1,2,x\n", "interactions", dest)

    assert details["errors"][0]["column"] == "rating"
    details = rejection(b"userId,movieId\n1,\n", "interactions", dest)
    assert details["errors"][0]["column"] == "movieId"


def test_missing_required_column_is_reported_once_at_line_1(dest: Path) -> None:
    data = b"user_id,rating\n" + b"u1,4\n" * 500
    details = rejection(data, "interactions", dest)

    assert details["errors"] == [{"line": 1, "column": "item_id", "value": None, "reason": "missing required column"}]


def test_header_problems(dest: Path) -> None:
    ambiguous = rejection(b"user,uid,item_id\n1,2,3\n", "interactions", dest)
    assert ambiguous["errors"][0]["reason"].startswith("ambiguous column")
    assert ambiguous["errors"][0]["line"] == 1

    duplicate = rejection(b"user_id,item_id,item_id\n1,2,3\n", "interactions", dest)
    assert errors(duplicate) == [(1, "item_id", "duplicate column name")]

    # The canonical spelling wins over an alias; the alias column is kept as an extra.
    run(b"user_id,user,item_id\n1,2,3\n", "interactions", dest)


def test_multiline_values_blank_lines_and_malformed_rows_keep_line_numbers(dest: Path) -> None:
    data = (
        b'doc_id,text,title\n'               # 1
        b'd1,"two\nlines",A\n'               # 2-3
        b'\n'                                # 4 blank: skipped, still counted
        b'd2,"three\nlong\nlines",B\n'       # 5-7
        b'd3,short\n'                        # 8 too few fields
        b'd4,"ok",C,extra\n'                 # 9 too many fields
        b'd5,"x\ny",C\n'                     # 10-11
        b'd6,,D\n'                           # 12 empty text
        b'd7,"a\nb",E,F\n'                   # 13-14 too many fields, spanning lines
        b'd8,,G\n'                           # 15 empty text
    )
    details = rejection(data, "documents", dest)

    assert errors(details) == [
        (8, None, "wrong number of columns (expected 3, found 2)"),
        (9, None, "wrong number of columns (expected 3, found 4)"),
        (12, "text", "missing value"),
        (13, None, "wrong number of columns (expected 3, found 4)"),
        (15, "text", "missing value"),
    ]
    assert (details["bad_rows"], details["rows_checked"]) == (5, 8)


def test_jsonl_problems(dest: Path) -> None:
    lines = [
        json.dumps({"user_id": "u1", "item_id": "i1", "rating": 4}),
        "",                                                   # blank: skipped
        "{not json",
        "[1, 2]",
        json.dumps({"user_id": "u2", "item_id": {"id": 3}}),
        json.dumps({"user_id": "u3", "item_id": "i3", "rating": "x"}),
        json.dumps({"user_id": 4, "item_id": "i4", "rating": 4.5}),  # mixed types: read as text, fine
    ]
    details = rejection("\n".join(lines).encode() + b"\n", "interactions", dest)

    assert errors(details) == [
        (3, None, "invalid JSON"),
        (4, None, "not a JSON object"),
        (5, "item_id", "nested value not supported"),
        (6, "rating", "not a number"),
    ]
    assert (details["bad_rows"], details["rows_checked"]) == (4, 6)


def test_parquet_problems_are_numbered_by_row(dest: Path) -> None:
    table = pa.table({"user_id": ["a", "b", None, "d"], "item_id": [1.0, 2.0, 3.0, 4.5],
                      "rating": [1.0, float("nan"), 2.0, 3.0]})
    details = rejection(parquet_bytes(table), "interactions", dest)

    assert errors(details) == [(2, "rating", "NaN not allowed"), (3, "user_id", "empty id"),
                               (4, "item_id", "not a valid id")]


def test_first_n_errors_are_listed_and_all_bad_rows_counted(dest: Path) -> None:
    rows = [f"u{i},i{i},{'bad' if i % 3 == 0 else '4'}" for i in range(3000)]
    data = ("user_id,item_id,rating\n" + "\n".join(rows) + "\n").encode()
    details = rejection(data, "interactions", dest)

    assert len(details["errors"]) == 20
    assert [e["line"] for e in details["errors"]] == [2 + 3 * k for k in range(20)]
    assert (details["bad_rows"], details["rows_checked"]) == (1000, 3000)

    capped = rejection(data, "interactions", dest, options=IngestOptions(max_errors=3, csv_block_bytes=1024))
    assert [e["line"] for e in capped["errors"]] == [2, 5, 8]
    assert capped["bad_rows"] == 1000


def test_empty_inputs_are_invalid(dest: Path) -> None:
    for data, filename in [(b"", None), (b"  \n\n", "x.csv"), (b"user_id,item_id\n", None),
                           (b"\n\n", "x.jsonl"), (b"user_id,item_id\n\n\n", None)]:
        details = rejection(data, "interactions", dest, filename=filename)
        assert errors(details) == [(1, None, "no data rows")], data
    empty = pa.table({"user_id": pa.array([], pa.string()), "item_id": pa.array([], pa.string())})
    assert errors(rejection(parquet_bytes(empty), "interactions", dest)) == [(1, None, "no data rows")]


def test_rejection_leaves_nothing_behind_and_keeps_an_existing_file(dest: Path) -> None:
    dest.write_bytes(b"previous version")
    rows = "\n".join(f"u{i},i{i},4" for i in range(200_000))
    data = f"user_id,item_id,rating\n{rows}\nu,i,oops\n".encode()  # bad only at the very end

    details = rejection(data, "interactions", dest)

    assert details["errors"][0]["line"] == 200_002
    assert dest.read_bytes() == b"previous version"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["data.parquet"]

