"""The dataset kinds and their columns: one declarative table.

A kind lists its canonical columns; each column has a logical type (below), whether it is
required, a few aliases matched case-insensitively (``userId`` → ``user_id``), and a description
that doubles as UI/CLI help. Columns a file has beyond its kind's are kept, with types inferred
(see ``convert.py``). To add a kind, add one ``KindSpec`` to ``_KINDS``.

Logical types and the Parquet type they normalise to:

* ``id``: non-empty string (integers are accepted and written as their decimal text) → string
* ``string``: optional free text → string; ``text``: required, non-empty → string
* ``label``: required, non-empty class name → string
* ``float``: finite number → float32; ``int``: integer → int64
* ``timestamp``: epoch seconds (integer or decimal) or ISO-8601 text, UTC when no offset → int64
* ``string_list``: a ``|``- or ``,``-separated string (or a list) → list<string>
* ``auto``: inferred from the first batch: numbers → float64, otherwise string
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from limelight.errors import InvalidParams

LogicalType = Literal["id", "string", "text", "label", "float", "int", "timestamp", "string_list", "auto"]

PARQUET_TYPE_NAMES: dict[str, str] = {
    "id": "string",
    "string": "string",
    "text": "string",
    "label": "string",
    "float": "float32",
    "int": "int64",
    "timestamp": "int64",
    "string_list": "list<string>",
    "auto": "float64 or string (inferred)",
}

# Epoch seconds outside [1970, 3000) are almost always milliseconds or garbage.
TIMESTAMP_MAX_S = 32_503_680_000


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: LogicalType
    required: bool = False
    aliases: tuple[str, ...] = ()
    unique: bool = False
    min_value: float | None = None
    description: str = ""

    def keys(self) -> tuple[str, ...]:
        """Normalised names that match this column, the canonical one first."""
        return (column_key(self.name), *(column_key(a) for a in self.aliases))


@dataclass(frozen=True)
class KindSpec:
    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    extra_columns: str = "kept, types inferred (numbers → float64, otherwise string)"
    takes_target: bool = False
    exact_distinct: tuple[str, ...] = field(default=())

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def column_key(name: str) -> str:
    """Case- and punctuation-insensitive form of a column name: ``User ID`` → ``userid``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


_USER_ID = ColumnSpec("user_id", "id", required=True, aliases=("userId", "user", "uid"),
                      description="who acted (the end user)")
_ITEM_ID = ColumnSpec("item_id", "id", required=True, aliases=("itemId", "item", "movieId", "movie"),
                      description="what was acted on (movie, track, title…)")

_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        "interactions",
        "user–item events or ratings, the input of recommenders",
        (
            _USER_ID,
            _ITEM_ID,
            ColumnSpec("rating", "float", aliases=("score", "stars"),
                       description="explicit rating; any finite number"),
            ColumnSpec("weight", "float", aliases=("value", "count", "plays"), min_value=0.0,
                       description="implicit strength (plays, seconds watched); finite and ≥ 0"),
            ColumnSpec("timestamp", "timestamp", aliases=("ts", "time", "datetime", "event_time", "date"),
                       description="epoch seconds or ISO-8601 (UTC when no offset), 1970 to 3000"),
            ColumnSpec("event", "string", aliases=("type", "event_type", "action"),
                       description="event type: view, click, play, rate, purchase…"),
        ),
        exact_distinct=("user_id", "item_id"),
    ),
    KindSpec(
        "items",
        "the catalogue: one row per item",
        (
            ColumnSpec("item_id", "id", required=True, unique=True,
                       aliases=("itemId", "item", "movieId", "movie", "id"), description="unique item id"),
            ColumnSpec("title", "string", aliases=("name",), description="display title"),
            ColumnSpec("genres", "string_list", aliases=("genre", "categories"),
                       description="genres, '|'- or ','-separated, or a list"),
            ColumnSpec("year", "int", aliases=("release_year",), min_value=0.0, description="release year"),
            ColumnSpec("description", "string", aliases=("overview", "plot", "summary", "synopsis"),
                       description="free-text description"),
        ),
        extra_columns="kept as metadata, types inferred (numbers → float64, otherwise string)",
    ),
    KindSpec(
        "users",
        "end-user attributes: one row per user",
        (ColumnSpec("user_id", "id", required=True, unique=True, aliases=("userId", "user", "uid", "id"),
                    description="unique user id"),),
    ),
    KindSpec(
        "labeled_text",
        "texts with a class label, for text classifiers",
        (
            ColumnSpec("text", "text", required=True, aliases=("sentence", "review", "content", "body"),
                       description="the text to classify"),
            ColumnSpec("label", "label", required=True, aliases=("class", "sentiment", "category"),
                       description="its class (numbers are kept as text: 0 → '0')"),
        ),
    ),
    KindSpec(
        "tabular",
        "rows of numeric or categorical features with one target",
        (ColumnSpec("target", "auto", required=True,
                    description="what to predict; name another column with target=<name>"),),
        extra_columns="features, types inferred (numbers → float64, otherwise categorical string)",
        takes_target=True,
    ),
    KindSpec(
        "documents",
        "documents for search and retrieval",
        (
            ColumnSpec("doc_id", "id", required=True, unique=True, aliases=("id", "document_id", "docId"),
                       description="unique document id"),
            ColumnSpec("text", "text", required=True, aliases=("body", "content"), description="the document"),
            ColumnSpec("title", "string", aliases=("name", "headline"), description="display title"),
        ),
    ),
    KindSpec(
        "images",
        "labelled pictures: a zip or tar with one folder per label (or a labels.csv)",
        (
            ColumnSpec("image_id", "id", required=True, unique=True, description="the picture's path in the archive"),
            ColumnSpec("label", "label", required=True, description="its (first) label: the folder it is in"),
        ),
        extra_columns="labels, split, image (the bytes), format, width, height, sha256: made from the archive",
    ),
)


def get_kind(name: str) -> KindSpec:
    for spec in _KINDS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in _KINDS)
    raise InvalidParams(f"Unknown dataset kind {name!r}; expected one of: {known}.",
                        details={"kind": name, "kinds": [s.name for s in _KINDS]})


def kind_names() -> list[str]:
    return [s.name for s in _KINDS]


def kinds() -> list[dict[str, Any]]:
    """Every kind with its columns, JSON-ready, for docs, UI help text and the CLI."""
    return [
        {
            "name": spec.name,
            "description": spec.description,
            "columns": [
                {
                    "name": c.name,
                    "type": PARQUET_TYPE_NAMES[c.type],
                    "required": c.required,
                    "unique": c.unique,
                    "aliases": list(c.aliases),
                    "description": c.description,
                }
                for c in spec.columns
            ],
            "extra_columns": spec.extra_columns,
            "takes_target": spec.takes_target,
        }
        for spec in _KINDS
    ]
