"""Every kind is accepted from CSV, JSON Lines and Parquet, and normalises to the same columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from limelight.datasets.ingest import IngestOptions, kinds, read_normalized
from limelight.errors import InvalidParams
from tests.datasets_ingest.conftest import FORMATS, encode, rejection, run

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "interactions": [
        {"userId": "u1", "movieId": 10, "rating": 4.5, "timestamp": 1_600_000_000, "type": "rate"},
        {"userId": "u2", "movieId": 11, "rating": 3.0, "timestamp": 1_600_000_100, "type": "view"},
    ],
    "items": [
        {"item_id": 10, "title": "Heat", "genres": "Action|Crime", "year": 1995, "description": "LA.",
         "studio": "Warner"},
        {"item_id": 11, "title": "Up", "genres": "Animation, Family", "year": 2009, "description": "Balloons.",
         "studio": "Pixar"},
    ],
    "users": [{"user_id": "u1", "country": "FR"}, {"user_id": "u2", "country": "JP"}],
    "labeled_text": [{"text": "A joy.", "label": "pos"}, {"text": "A bore.", "label": "neg"}],
    "tabular": [{"budget": 1.5, "genre": "drama", "target": 7.1}, {"budget": 90.0, "genre": "action", "target": 6.4}],
    "documents": [{"doc_id": "d1", "text": "First.", "title": "One"}, {"doc_id": "d2", "text": "Second.", "title": "Two"}],
}

EXPECTED: dict[str, dict[str, list[Any]]] = {
    "interactions": {"user_id": ["u1", "u2"], "item_id": ["10", "11"], "rating": [4.5, 3.0],
                     "timestamp": [1_600_000_000, 1_600_000_100], "event": ["rate", "view"]},
    "items": {"item_id": ["10", "11"], "title": ["Heat", "Up"], "genres": [["Action", "Crime"], ["Animation", "Family"]],
              "year": [1995, 2009], "description": ["LA.", "Balloons."], "studio": ["Warner", "Pixar"]},
    "users": {"user_id": ["u1", "u2"], "country": ["FR", "JP"]},
    "labeled_text": {"text": ["A joy.", "A bore."], "label": ["pos", "neg"]},
    "tabular": {"target": [7.1, 6.4], "budget": [1.5, 90.0], "genre": ["drama", "action"]},
    "documents": {"doc_id": ["d1", "d2"], "text": ["First.", "Second."], "title": ["One", "Two"]},
}

TYPES = {"user_id": pa.string(), "item_id": pa.string(), "rating": pa.float32(), "timestamp": pa.int64(),
         "event": pa.string(), "genres": pa.list_(pa.string()), "year": pa.int64(), "target": pa.float64()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_each_kind_is_accepted_from_each_format(kind: str, fmt: str, dest: Path) -> None:
    result = run(encode(SAMPLES[kind], fmt), kind, dest)

    assert (result.rows, result.format) == (2, fmt)
    table = read_normalized(dest)
    assert table.to_pydict() == EXPECTED[kind]
    for name, arrow_type in TYPES.items():
        if name in table.column_names:
            assert table.schema.field(name).type == arrow_type, name
    assert [c.name for c in result.columns] == table.column_names


def test_column_info_names_sources_and_extras(dest: Path) -> None:
    result = run(encode(SAMPLES["items"], "csv"), "items", dest)

    info = {c.name: (c.type, c.source, c.extra) for c in result.columns}
    assert info["item_id"] == ("string", "item_id", False)
    assert info["genres"] == ("list<string>", "genres", False)
    assert info["studio"] == ("string", "studio", True)


def test_aliases_match_case_insensitively(dest: Path) -> None:
    data = b"USERID,Item ID,Rating,TS,Action\n1,2,3.5,1600000000,play\n"
    run(data, "interactions", dest)

    assert read_normalized(dest).column_names == ["user_id", "item_id", "rating", "timestamp", "event"]


def test_tabular_target_can_be_named(dest: Path) -> None:
    data = b"budget,genre,box_office\n1.5,drama,10\n2.5,comedy,20\n"
    result = run(data, "tabular", dest, options=IngestOptions(target="Box_Office"))

    assert result.columns[0].name == "target" and result.columns[0].source == "box_office"
    assert read_normalized(dest, ["target"]).to_pydict() == {"target": [10.0, 20.0]}


def test_tabular_without_target_is_refused(dest: Path) -> None:
    details = rejection(b"a,b\n1,2\n", "tabular", dest)

    assert details["errors"] == [{"line": 1, "column": "target", "value": None, "reason": "missing required column"}]


def test_unknown_kind_and_misplaced_target_are_invalid_params(dest: Path) -> None:
    with pytest.raises(InvalidParams):
        run(b"a\n1\n", "movies", dest)
    with pytest.raises(InvalidParams):
        run(b"user_id,item_id\n1,2\n", "interactions", dest, options=IngestOptions(target="x"))
    with pytest.raises(InvalidParams):
        run(b"user_id,item_id\n1,2\n", "interactions", dest, options=IngestOptions(max_errors=0))
    assert not dest.exists()


def test_kinds_describes_every_kind() -> None:
    described = {k["name"]: k for k in kinds()}

    assert set(described) == set(SAMPLES) | {"images"}  # images are archives, read in tests/datasets_images
    interactions = {c["name"]: c for c in described["interactions"]["columns"]}
    assert interactions["user_id"]["required"] and not interactions["rating"]["required"]
    assert interactions["weight"]["type"] == "float32"
    assert "movieId" in interactions["item_id"]["aliases"]
    assert described["tabular"]["takes_target"]
    assert all(c["description"] for k in kinds() for c in k["columns"])


def test_a_leftover_column_may_not_shadow_a_canonical_one(dest: Path) -> None:
    details = rejection(b"price,target\n1,2\n", "tabular", dest, options=IngestOptions(target="price"))

    assert details["errors"][0]["line"] == 1 and details["errors"][0]["column"] == "target"
    assert details["errors"][0]["reason"].startswith("ambiguous column")
