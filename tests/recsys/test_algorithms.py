from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.errors import InvalidParams
from limelight.recsys.algorithms import ALGORITHMS, ALS, Popularity, create
from limelight.recsys.algorithms.ease import MAX_ITEMS
from limelight.recsys.base import History, Recommender, user_history
from tests.recsys.conftest import (
    BLOCKBUSTERS,
    CLUSTER_A,
    CLUSTER_B,
    PERSONALISED,
    RECIPES,
    SMALL_PARAMS,
    Planted,
    cluster_counts,
)


def fitted(name: str, planted: Planted) -> Recommender:
    return create(name, SMALL_PARAMS.get(name)).fit(
        planted.interactions.matrix, timestamps=planted.interactions.timestamps
    )


@pytest.fixture(scope="module")
def models(planted: Planted) -> dict[str, Recommender]:
    return {name: fitted(name, planted) for name in RECIPES}


def test_every_recipe_implements_the_protocol(models: dict[str, Recommender]) -> None:
    assert sorted(ALGORITHMS) == sorted(RECIPES)
    for model in models.values():
        assert isinstance(model, Recommender)


@pytest.mark.parametrize("name", PERSONALISED)
def test_personalised_recipes_find_the_planted_clusters(
    name: str, planted: Planted, models: dict[str, Recommender]
) -> None:
    model, matrix = models[name], planted.interactions.matrix
    own, other = [], []
    for user in list(range(0, 100, 7)) + list(range(100, 200, 7)):
        seen = user_history(matrix, user).item_indices
        items, scores = model.recommend(user, 10, exclude=seen)
        assert len(items) == 10 and not np.isin(items, seen).any()
        assert (np.diff(scores) <= 1e-6).all()  # best first
        a, b, _ = cluster_counts(items)
        own.append(a if user < 100 else b)
        other.append(b if user < 100 else a)
    # noise alone would put ~3.3 of 10 in each cluster; the signal puts the own cluster far ahead
    assert np.mean(own) >= 6.0, (name, own)
    assert np.mean(other) <= 1.0, (name, other)


def test_popularity_ranks_the_blockbusters_first(models: dict[str, Recommender]) -> None:
    items, _ = models["popularity"].recommend(0, 10)
    assert set(items.tolist()) == set(BLOCKBUSTERS.tolist())


def test_popularity_time_decay_prefers_recent_interactions() -> None:
    # items 0 and 1 have the same number of users; item 1's are a year more recent
    matrix = sp.csr_matrix(np.ones((4, 2), np.float32))
    old, new = 1_600_000_000, 1_600_000_000 + 365 * 86_400
    stamps = np.array([old, new] * 4, np.int64)
    plain = Popularity().fit(matrix, timestamps=stamps)
    decayed = Popularity({"half_life_days": 30}).fit(matrix, timestamps=stamps)
    assert plain.scores[0] == plain.scores[1] == 4
    assert decayed.scores[1] == pytest.approx(4.0) and decayed.scores[0] < 0.01


@pytest.mark.parametrize("name", PERSONALISED)
def test_fold_in_recommends_for_an_unseen_history(name: str, models: dict[str, Recommender]) -> None:
    history = CLUSTER_B[:8]
    items, _ = models[name].recommend_for_history(history, None, 10, exclude=history)
    a, b, _ = cluster_counts(items)
    assert b >= 6 and a <= 1, (name, items)


@pytest.mark.parametrize("name", PERSONALISED)
def test_fold_in_moves_a_user_towards_new_history(
    name: str, planted: Planted, models: dict[str, Recommender]
) -> None:
    model, matrix = models[name], planted.interactions.matrix
    base = user_history(matrix, 3)  # a cluster-A user
    before, _ = model.recommend(3, 10, exclude=base.item_indices)
    extra = CLUSTER_B[:20]
    merged = History(
        np.concatenate([base.item_indices, extra]), np.ones(base.item_indices.size + 20, np.float32)
    )
    after, _ = model.recommend_for_history(
        merged.item_indices, merged.weights, 10, exclude=merged.item_indices
    )
    assert cluster_counts(after)[1] >= cluster_counts(before)[1] + 3, (name, before, after)


def test_popularity_ignores_history(models: dict[str, Recommender]) -> None:
    model = models["popularity"]
    assert np.array_equal(model.recommend(0, 10)[0], model.recommend_for_history(CLUSTER_B[:5], None, 10)[0])


def test_als_fold_in_matches_implicit_recalculate_user(planted: Planted) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    model = ALS({"factors": 16, "regularization": 1.0, "weighting": "none", "alpha": 2.0})
    model.fit(planted.interactions.matrix)
    reference = AlternatingLeastSquares(factors=16, regularization=1.0, alpha=2.0)
    reference.item_factors = model.item_factors.copy()
    reference.user_factors = model.user_factors.copy()
    history = History(np.array([1, 5, 44, 90]), np.array([1.0, 3.0, 2.0, -1.0], np.float32))  # with a skip
    row = sp.csr_matrix((history.weights, (np.zeros(4, int), history.item_indices)), shape=(1, 120))
    expected = reference.recalculate_user(0, row)
    np.testing.assert_allclose(model.fold_in(history), expected, rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("name", ["itemknn", "ease", "als"])
def test_explanations_add_up_to_the_score(name: str, models: dict[str, Recommender]) -> None:
    model = models[name]
    history = np.array([0, 1, 2, 3, 41])
    items, scores = model.recommend_for_history(history, None, 1, exclude=history)
    parts = model.explain(history, int(items[0]))
    assert parts and parts[0][0] in (0, 1, 2, 3)  # a cluster-A item explains a cluster-A pick best
    assert [c for _, c in parts] == sorted((c for _, c in parts), reverse=True)
    if name != "als":  # ALS's parts sum to the folded-in score exactly; kNN/EASE likewise by construction
        assert sum(c for _, c in parts) == pytest.approx(float(scores[0]), rel=1e-4)
    else:
        assert sum(c for _, c in parts) == pytest.approx(float(scores[0]), rel=1e-3)


@pytest.mark.parametrize("name", PERSONALISED)
def test_similar_items_stay_in_the_cluster(name: str, models: dict[str, Recommender]) -> None:
    items, _ = models[name].similar_items(45, 5)
    assert 45 not in items.tolist()
    # blockbusters co-occur with everything and may appear; the other cluster may not
    assert np.isin(items, CLUSTER_B).sum() >= 3 and not np.isin(items, CLUSTER_A).any(), (name, items)


@pytest.mark.parametrize("name", RECIPES)
def test_candidate_mask_and_exclusions(name: str, models: dict[str, Recommender]) -> None:
    mask = np.zeros(120, bool)
    mask[100:110] = True
    items, _ = models[name].recommend(5, 10, exclude=[100, 101], candidate_mask=mask)
    assert set(items.tolist()) <= set(range(102, 110))
    with pytest.raises(ValueError):
        models[name].recommend(5, 10, candidate_mask=np.ones(3, bool))


@pytest.mark.parametrize("name", RECIPES)
def test_to_arrays_round_trip(name: str, models: dict[str, Recommender]) -> None:
    model = models[name]
    again = type(model).from_arrays(model.to_arrays())
    for user in (0, 150):
        np.testing.assert_array_equal(model.recommend(user, 10)[0], again.recommend(user, 10)[0])
    np.testing.assert_array_equal(
        model.recommend_for_history([1, 2], None, 5)[0], again.recommend_for_history([1, 2], None, 5)[0]
    )
    assert again.params == model.params


def test_ease_refuses_too_many_items() -> None:
    n = MAX_ITEMS + 1
    cols = np.repeat(np.arange(n), 2)  # every item has two interactions, so all would be modelled
    rows = np.tile([0, 1], n)
    matrix = sp.csr_matrix((np.ones(2 * n, np.float32), (rows, cols)), shape=(2, n))
    with pytest.raises(InvalidParams, match="at most"):
        create("ease").fit(matrix)


def test_params_are_validated() -> None:
    with pytest.raises(InvalidParams) as err:
        create("als", {"factors": 0})
    assert err.value.details["errors"][0]["field"] == "factors"
    with pytest.raises(InvalidParams):
        create("ease", {"lambda": 3})
    with pytest.raises(InvalidParams):
        create("svd++")


def test_itemknn_shrinkage_discounts_similarities_resting_on_few_common_users(planted: Planted) -> None:
    from limelight.recsys.algorithms.neighbours import co_counts

    matrix = planted.interactions.matrix
    item_users = sp.csr_matrix(matrix.T)
    rows, cols = np.array([0, 0, 80, 5]), np.array([1, 85, 81, 100])
    dense = (item_users.toarray() > 0).astype(int)
    assert co_counts(item_users, rows, cols).tolist() == [int(dense[r] @ dense[c]) for r, c in zip(rows, cols,
                                                                                                      strict=True)]
    plain = create("itemknn", {"neighbours": 20}).fit(matrix)
    shrunk = create("itemknn", {"neighbours": 20, "shrinkage": 50.0}).fit(matrix)
    assert shrunk.similarity.nnz <= plain.similarity.nnz
    both = (plain.similarity > 0).multiply(shrunk.similarity > 0).tocoo()
    common = co_counts(item_users, both.row, both.col)
    ratio = np.asarray(shrunk.similarity[both.row, both.col]).ravel() / np.asarray(
        plain.similarity[both.row, both.col]).ravel()
    np.testing.assert_allclose(ratio, common / (common + 50.0), rtol=1e-4)
