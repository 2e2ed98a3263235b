"""Parsers for the three MovieLens layouts, detected from the files in a folder.

* ml-100k: ``u.data`` (tab-separated ``user item rating timestamp``) and ``u.item``
  (``|``-separated, latin-1: id, title, release date, video date, IMDb URL, 19 genre flags).
* ml-1m: ``ratings.dat`` / ``movies.dat``, ``::``-separated, latin-1.
* ml-latest(-small): ``ratings.csv`` / ``movies.csv``, UTF-8 CSV with a header and quoted titles.

Ratings become interactions whose weight is the rating; items carry title, genres (a list) and the
year parsed from the title's trailing "(1995)". Ids stay strings, as in the rest of recsys.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from limelight.errors import DatasetInvalid
from limelight.recsys.interactions import Interactions, build_interactions

__all__ = ["ML100K_GENRES", "MovieLens", "load_movielens", "parse_year"]

ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
_YEAR = re.compile(r"\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$")


@dataclass(frozen=True)
class MovieLens:
    user_ids: np.ndarray  # unicode
    item_ids: np.ndarray  # unicode
    ratings: np.ndarray  # float32
    timestamps: np.ndarray  # int64 seconds
    items: list[dict[str, Any]]  # item_id, title, genres (list[str]), year (int | None)
    layout: str  # "ml-100k", "ml-1m" or "ml-latest"

    def interactions(self, *, binary: bool = False) -> Interactions:
        """Every rating as one interaction; weight = rating, or 1 when ``binary``."""
        weights = None if binary else self.ratings
        catalog = np.array([item["item_id"] for item in self.items], dtype=str)
        return build_interactions(
            self.user_ids, self.item_ids, weights, self.timestamps, item_catalog=catalog
        )


def parse_year(title: str) -> int | None:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


def load_movielens(folder: str | Path) -> MovieLens:
    root = Path(folder)
    if (root / "ratings.csv").is_file():
        return _load_latest(root)
    if (root / "ratings.dat").is_file():
        return _load_1m(root)
    if (root / "u.data").is_file():
        return _load_100k(root)
    raise DatasetInvalid(f"no MovieLens ratings file (ratings.csv, ratings.dat, u.data) in {root}")


def _ratings_table(
    rows: list[list[str]], layout: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        table = np.array(rows, dtype=str)
        users, items = table[:, 0], table[:, 1]
        return users, items, table[:, 2].astype(np.float32), table[:, 3].astype(np.float64).astype(np.int64)
    except (ValueError, IndexError) as exc:
        raise DatasetInvalid(f"{layout}: malformed ratings ({exc})") from None


def _item(item_id: str, title: str, genres: list[str]) -> dict[str, Any]:
    return {"item_id": item_id, "title": title, "genres": genres, "year": parse_year(title)}


def _load_latest(root: Path) -> MovieLens:
    with open(root / "ratings.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        ratings = _ratings_table([row for row in reader if row], "ml-latest")
    items = []
    if (root / "movies.csv").is_file():
        with open(root / "movies.csv", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for row in reader:
                genres = [] if row[2] == "(no genres listed)" else row[2].split("|")
                items.append(_item(row[0], row[1], genres))
    return MovieLens(*ratings, items=items, layout="ml-latest")


def _load_1m(root: Path) -> MovieLens:
    text = (root / "ratings.dat").read_text(encoding="latin-1")
    ratings = _ratings_table([line.split("::") for line in text.splitlines() if line], "ml-1m")
    items = []
    if (root / "movies.dat").is_file():
        for line in (root / "movies.dat").read_text(encoding="latin-1").splitlines():
            if line:
                item_id, title, genres = line.split("::", 2)
                items.append(_item(item_id, title, [g for g in genres.split("|") if g]))
    return MovieLens(*ratings, items=items, layout="ml-1m")


def _load_100k(root: Path) -> MovieLens:
    text = (root / "u.data").read_text(encoding="latin-1")
    ratings = _ratings_table([line.split("\t") for line in text.splitlines() if line], "ml-100k")
    items = []
    if (root / "u.item").is_file():
        reader = csv.reader(
            io.StringIO((root / "u.item").read_text(encoding="latin-1")),
            delimiter="|",
            quoting=csv.QUOTE_NONE,
        )
        for row in reader:
            if len(row) < 5 + len(ML100K_GENRES):
                continue
            flags = row[5 : 5 + len(ML100K_GENRES)]
            genres = [name for name, flag in zip(ML100K_GENRES, flags, strict=True) if flag == "1"]
            items.append(_item(row[0], row[1], genres))
    return MovieLens(*ratings, items=items, layout="ml-100k")
