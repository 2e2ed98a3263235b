"""MovieLens ml-latest-small ingests as it comes (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.datasets.ingest import ingest, iter_normalized, read_normalized

MOVIELENS = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-latest-small"

pytestmark = pytest.mark.skipif(not (MOVIELENS / "ratings.csv").exists(), reason="MovieLens data absent")


def test_ratings_ingest_as_interactions(tmp_path: Path) -> None:
    dest = tmp_path / "ratings.parquet"
    result = ingest(MOVIELENS / "ratings.csv", kind="interactions", filename="ratings.csv",
                    content_type="text/csv", dest=dest)

    assert (result.rows, result.format, result.encoding, result.delimiter) == (100_836, "csv", "utf-8", ",")
    assert [(c.name, c.type, c.source) for c in result.columns] == [
        ("user_id", "string", "userId"), ("item_id", "string", "movieId"),
        ("rating", "float32", "rating"), ("timestamp", "int64", "timestamp")]
    stats = result.profile["interactions"]
    assert (stats["users"], stats["items"]) == (610, 9_724)  # as the data set's README states
    assert stats["per_user"]["min"] == 20.0  # MovieLens keeps users with at least 20 ratings
    rating = result.profile["columns"]["rating"]
    assert (rating["min"], rating["max"], rating["distinct"]) == (0.5, 5.0, 10)
    assert sum(batch.num_rows for batch in iter_normalized(dest, batch_size=10_000)) == 100_836


def test_movies_ingest_as_items(tmp_path: Path) -> None:
    dest = tmp_path / "movies.parquet"
    result = ingest(MOVIELENS / "movies.csv", kind="items", dest=dest)

    assert result.rows == 9_742
    table = read_normalized(dest, columns=["item_id", "title", "genres"])
    first = table.slice(0, 1).to_pylist()[0]
    assert first == {"item_id": "1", "title": "Toy Story (1995)",
                     "genres": ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]}
    genres = result.profile["columns"]["genres"]["elements"]
    assert genres["top"][0] == {"value": "Drama", "count": 4_361}
