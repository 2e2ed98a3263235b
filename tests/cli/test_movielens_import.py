"""`limelight datasets import-movielens` reads each MovieLens layout and uploads two datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-latest-small"


def _write_100k(folder: Path) -> None:
    folder.mkdir()
    (folder / "u.data").write_text("1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n")
    (folder / "u.item").write_bytes("10|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                                    "20|Caf\xe9 (1996)|01-Jan-1996||http://x|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                                    .encode("latin-1"))


def _write_1m(folder: Path) -> None:
    folder.mkdir()
    (folder / "ratings.dat").write_text("1::10::4::978300760\n2::10::5::978300761\n2::20::2::978300762\n")
    (folder / "movies.dat").write_bytes("10::Heat (1995)::Action|Crime\n20::Am\xe9lie (2001)::Comedy\n"
                                        .encode("latin-1"))


@pytest.mark.parametrize("writer, layout", [(_write_100k, "ml-100k"), (_write_1m, "ml-1m")])
def test_import_small_releases(cli: Cli, tmp_path: Path, writer, layout):  # type: ignore[no-untyped-def]
    folder = tmp_path / layout
    writer(folder)
    result = cli("datasets", "import-movielens", str(folder), "--ratings-name", f"r-{layout}",
                 "--movies-name", f"m-{layout}", "--json")
    ratings, movies = result.json()
    assert ratings["kind"] == "interactions" and ratings["rows"] == 3
    assert movies["kind"] == "items" and movies["rows"] == 2
    assert f"Read {layout}" in result.err
    shown = cli("datasets", "show", f"m-{layout}", "--json").json()
    assert "year" in {c["name"] for c in shown["latest"]["columns"]}


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/movielens-latest-small is absent")
def test_import_ml_latest_small(cli: Cli):
    ratings, movies = cli("datasets", "import-movielens", str(SHARED), "--json").json()
    assert ratings["rows"] == 100_836 and movies["rows"] == 9_742
    assert ratings["profile"]
