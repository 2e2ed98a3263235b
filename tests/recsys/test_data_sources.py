from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from limelight.recsys.algorithms import create
from limelight.recsys.evaluation import evaluate, holdout_split
from limelight.recsys.interactions import EventWeights, build_interactions, interactions_from_records
from limelight.recsys.movielens import load_movielens, parse_year
from limelight.recsys.synthetic import GENRES, generate_catalog

ML_LATEST_SMALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "movielens-latest-small"


def test_build_interactions_sums_repeats_and_keeps_the_latest_time() -> None:
    inter = build_interactions(
        ["b", "a", "b", "b", "c"],
        ["x", "y", "x", "z", "x"],
        [1.0, 2.0, 3.0, 1.0, -1.0],
        [10, 20, 30, 5, 7],
        item_catalog=["w"],
    )
    assert inter.user_ids.tolist() == ["a", "b", "c"] and inter.item_ids.tolist() == ["w", "x", "y", "z"]
    dense = inter.matrix.toarray()
    assert dense.tolist() == [[0, 0, 2, 0], [0, 4, 0, 1], [0, -1, 0, 0]]
    assert inter.matrix.dtype == np.float32
    b, stamps = inter.user_index("b"), inter.timestamps
    assert b is not None and stamps is not None
    lo, hi = inter.matrix.indptr[b], inter.matrix.indptr[b + 1]
    cells = dict(zip(inter.matrix.indices[lo:hi].tolist(), stamps[lo:hi].tolist(), strict=True))
    assert cells == {1: 30, 3: 5}
    assert inter.item_index("w") == 0 and inter.user_index("nobody") is None


def test_cells_summing_to_zero_are_dropped() -> None:
    inter = build_interactions(["a", "a", "a"], ["x", "x", "y"], [1.0, -1.0, 2.0])
    assert inter.matrix.nnz == 1


def test_event_weights() -> None:
    ew = EventWeights()
    assert ew.weight("skip") < 0 < ew.weight("view") < ew.weight("complete")
    assert ew.weight("rate", 4.0) == 4.0
    np.testing.assert_allclose(ew.weights(["play", "rate", "skip"], [None, 3.5, None]), [2.0, 3.5, -1.0])
    with pytest.raises(Exception, match="unknown event type"):
        ew.weight("teleport")
    with pytest.raises(Exception, match="rating"):
        ew.weights(["rate"], [None])


def test_interactions_from_records() -> None:
    inter = interactions_from_records(
        [
            ("u1", "i1", 1.0, 100),
            ("u1", "i2", 2.0, None),
            {"user_id": "u2", "item_id": "i1", "type": "rate", "value": 5, "timestamp": 50},
            {"user_id": "u2", "item_id": "i2", "weight": 0.5},
        ]
    )
    assert inter.matrix.toarray().tolist() == [[1.0, 2.0], [5.0, 0.5]]
    assert inter.timestamps is not None and sorted(inter.timestamps.tolist()) == [0, 0, 50, 100]


def test_synthetic_catalog_is_seeded_fast_and_plausible() -> None:
    start = time.perf_counter()
    catalog = generate_catalog(seed=7)
    assert time.perf_counter() - start < 3.0
    assert len(catalog.items) == 3000 and len(catalog.users) == 2000 and len(catalog.interactions) > 40_000
    item = catalog.items[0]
    assert set(item) == {"item_id", "title", "year", "genres", "description"}
    assert item["title"].endswith(f"({item['year']})") and set(item["genres"]) <= set(GENRES)
    assert len({i["title"] for i in catalog.items}) == 3000
    assert (
        generate_catalog(seed=7, n_items=50, n_users=30).interactions
        == generate_catalog(seed=7, n_items=50, n_users=30).interactions
    )
    inter = catalog.to_interactions()
    counts = np.sort(np.bincount(inter.matrix.indices, minlength=inter.n_items))[::-1]
    assert counts[:30].sum() > 4 * counts[-1500:].sum() / 50  # long tail: the top 1% dwarfs the tail
    assert {e["type"] for e in catalog.interactions} >= {"play", "rate", "skip"}
    table = catalog.interactions_table()
    assert table.num_rows == len(catalog.interactions) and "timestamp" in table.column_names


def test_synthetic_tastes_are_learnable() -> None:
    inter = generate_catalog(n_items=400, n_users=500, seed=1).to_interactions()
    split = holdout_split(inter.matrix, seed=0)
    pop = evaluate(create("popularity").fit(split.train), split.train, split.test)
    knn = evaluate(create("itemknn").fit(split.train), split.train, split.test)
    assert knn.ndcg > 1.5 * pop.ndcg


def test_parse_year() -> None:
    assert parse_year("Toy Story (1995)") == 1995
    assert parse_year("Babylon 5") is None
    assert parse_year("Fawlty Towers (1975-1979)") == 1975
    assert parse_year("City of Lost Children, The (Cité des enfants perdus, La) (1995) ") == 1995


def test_movielens_latest_format(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,0.5,964982224\n"
    )
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"American President, The (1995)",Comedy|Romance\n'
        "9,Unrated (2001),(no genres listed)\n"
    )
    ml = load_movielens(tmp_path)
    assert ml.layout == "ml-latest" and ml.ratings.tolist() == [4.0, 4.5, 0.5]
    assert ml.items[1] == {
        "item_id": "3",
        "title": "American President, The (1995)",
        "genres": ["Comedy", "Romance"],
        "year": 1995,
    }
    assert ml.items[2]["genres"] == []
    inter = ml.interactions()
    assert inter.n_items == 3 and inter.matrix.sum() == pytest.approx(
        9.0
    )  # the unrated movie is a column too
    assert ml.interactions(binary=True).matrix.sum() == 3


def test_movielens_1m_format(tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_bytes(b"1::1193::5::978300760\n1::661::3::978302109\n")
    (tmp_path / "movies.dat").write_bytes(
        "1193::Vie rêvée des anges, La (1998)::Drama\n661::James (1996)::Animation|Children's\n".encode(
            "latin-1"
        )
    )
    ml = load_movielens(tmp_path)
    assert (
        ml.layout == "ml-1m"
        and ml.user_ids.tolist() == ["1", "1"]
        and ml.timestamps.tolist() == [978300760, 978302109]
    )
    assert ml.items[0]["title"] == "Vie rêvée des anges, La (1998)" and ml.items[1]["genres"] == [
        "Animation",
        "Children's",
    ]


def test_movielens_100k_format(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    flags = ["0"] * 19
    flags[3] = flags[5] = "1"  # Animation, Comedy
    line = (
        "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|"
        + "|".join(flags)
        + "\n"
    )
    (tmp_path / "u.item").write_bytes(line.encode("latin-1"))
    ml = load_movielens(tmp_path)
    assert ml.layout == "ml-100k" and ml.items == [
        {"item_id": "242", "title": "Kolya (1996)", "genres": ["Animation", "Comedy"], "year": 1996}
    ]


def test_not_a_movielens_folder(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no MovieLens"):
        load_movielens(tmp_path)


@pytest.mark.skipif(
    not (ML_LATEST_SMALL / "ratings.csv").is_file(), reason="shared MovieLens data not present"
)
def test_ml_latest_small() -> None:
    ml = load_movielens(ML_LATEST_SMALL)
    inter = ml.interactions(binary=True)
    assert ml.ratings.shape == (100_836,) and inter.n_users == 610 and inter.n_items == 9742
    assert ml.items[0]["title"] == "Toy Story (1995)" and ml.items[0]["year"] == 1995
    split = holdout_split(inter.matrix, seed=42)
    pop = evaluate(create("popularity").fit(split.train), split.train, split.test)
    knn = evaluate(create("itemknn").fit(split.train), split.train, split.test)
    assert 0.15 < pop.ndcg < knn.ndcg
