"""The blend of recommenders that ``recommend/auto`` builds from its two best candidates."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.errors import InvalidParams, ValidationFailed
from limelight.recsys.algorithms import create
from limelight.recsys.algorithms.blend import Blend, standardise_rows
from limelight.recsys.artifact import load_model, save_model
from limelight.recsys.auto import auto_recommend
from limelight.recsys.base import make_history, user_history
from limelight.recsys.evaluation import evaluate, holdout_split
from limelight.recsys.interactions import build_interactions
from limelight.recsys.synthetic import generate_catalog
from limelight.recsys.trained import TrainedRecommender
from tests.recsys.conftest import SMALL_PARAMS, Planted

EASE_KNN = {"members": [{"recipe": "ease", "params": SMALL_PARAMS["ease"], "weight": 0.6},
                        {"recipe": "itemknn", "params": {}, "weight": 0.4}]}


def _fitted(planted: Planted, params: dict = EASE_KNN) -> Blend:  # type: ignore[type-arg]
    return Blend(params).fit(planted.interactions.matrix)


def test_scores_are_the_weighted_sum_of_each_members_standardised_scores(planted: Planted) -> None:
    matrix = planted.interactions.matrix
    blend = _fitted(planted)
    ease, knn = (create(m.recipe, m.params).fit(matrix) for m in blend.params.members)
    users = np.array([0, 1, 150])
    rows = sp.csr_matrix(matrix[users])
    expected = 0.6 * standardise_rows(ease.score_users(users, rows))[0] + 0.4 * standardise_rows(
        knn.score_users(users, rows))[0]
    batch = blend.score_users(users, rows)
    np.testing.assert_allclose(batch, expected, rtol=1e-5, atol=1e-5)
    for position, user in enumerate(users):  # one by one, and from the history alone, the same
        np.testing.assert_allclose(blend._score_user(int(user)), batch[position], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(blend._score_history(user_history(matrix, int(user))), batch[position],
                                   rtol=1e-5, atol=1e-5)
    each = standardise_rows(batch)[0]
    assert np.allclose(each.mean(axis=1), 0, atol=1e-5)


def test_a_user_nobody_can_score_gets_zeros_not_nan(planted: Planted) -> None:
    blend = _fitted(planted)
    scores = blend._score_history(make_history([], None, blend.n_items))
    assert np.isfinite(scores).all() and not scores.any()


def test_explanations_add_up_to_the_blended_score_up_to_one_constant(planted: Planted) -> None:
    """EASE and item-kNN scores are linear in the history, so each item's contributions sum to its
    blended score plus the same constant (the members' standardising shifts) for every item."""
    blend = _fitted(planted)
    history = user_history(planted.interactions.matrix, 3)
    scores = blend._score_history(history)
    gaps = []
    for item in (0, 7, 45, 85):
        contributions = blend.explain(history.item_indices, item, history.weights)
        assert [v for _, v in contributions] == sorted((v for _, v in contributions), reverse=True)
        assert {i for i, _ in contributions} <= set(history.item_indices.tolist())
        gaps.append(sum(v for _, v in contributions) - float(scores[item]))
    assert np.ptp(gaps) < 1e-3


def test_the_artifact_round_trips_bit_for_bit(planted: Planted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inter = planted.interactions
    blend = _fitted(planted, {"members": [{"recipe": "als", "params": SMALL_PARAMS["als"], "weight": 2.0},
                                          {"recipe": "ease", "params": SMALL_PARAMS["ease"], "weight": 1.0}]})
    trained = TrainedRecommender.from_interactions(blend, inter)
    save_model(tmp_path / "model.npz", trained)
    loaded = load_model(tmp_path / "model.npz")
    assert isinstance(loaded.algorithm, Blend) and loaded.algorithm.params == blend.params
    np.testing.assert_array_equal(loaded.algorithm._score_user(5), blend._score_user(5))
    assert loaded.algorithm.similar_items(3, 5)[0].tolist() == blend.members[0].similar_items(3, 5)[0].tolist()


def test_params_are_validated_with_the_member_and_field_named() -> None:
    with pytest.raises(InvalidParams) as caught:
        Blend({"members": [{"recipe": "ease", "params": {"l2": -1}, "weight": 1}]})
    assert "members" in str(caught.value.details)
    for bad in ({"members": [{"recipe": "hybrid", "weight": 1}, {"recipe": "ease", "weight": 1}]},
                {"members": [{"recipe": "ease", "weight": 0.2}, {"recipe": "als", "weight": 0.8}]},  # lightest first
                {"members": [{"recipe": "ease", "weight": 1, "extra": 1}, {"recipe": "als", "weight": 1}]}):
        with pytest.raises(InvalidParams):
            Blend(bad)


def test_members_that_do_not_match_the_listed_recipes_are_refused(planted: Planted) -> None:
    matrix = planted.interactions.matrix
    with pytest.raises(ValidationFailed):
        Blend(EASE_KNN).attach([create("itemknn").fit(matrix), create("ease").fit(matrix)])


def test_auto_adds_the_blend_of_its_two_best_and_keeps_it_only_when_it_wins(planted: Planted) -> None:
    inter = planted.interactions
    result = auto_recommend(inter.matrix, candidates=("itemknn", "ease", "als"), time_budget_s=60)
    assert [row.recipe for row in result.table] == ["itemknn", "ease", "als", "blend"]
    singles = sorted(result.table[:3], key=lambda row: -row.ndcg)
    blend_row = result.table[3]
    members = blend_row.params["members"]
    assert {m["recipe"] for m in members} == {singles[0].recipe, singles[1].recipe}
    for member in members:  # each member keeps its own tuned params
        assert member["params"] == next(r.params for r in singles if r.recipe == member["recipe"])
    assert blend_row.trials == len([t for t in result.trials if t.recipe == "blend"]) >= 1
    assert result.winner == max(result.table, key=lambda row: row.ndcg).recipe
    if result.winner == "blend":
        assert isinstance(result.model, Blend) and result.model.n_users == inter.n_users
    without = auto_recommend(inter.matrix, candidates=("itemknn", "ease", "als"), time_budget_s=60, blend=False)
    assert "blend" not in [row.recipe for row in without.table]


@pytest.mark.parametrize("events_per_user", [8.0, 25.0, 80.0])
def test_autos_pick_is_never_worse_than_the_best_single_recipe_on_unseen_data(events_per_user: float) -> None:
    """Sparse to dense synthetic audiences: what auto picks on its validation splits of the train part
    ranks the untouched test part at least about as well as the best single recipe's defaults."""
    catalog = generate_catalog(n_items=400, n_users=500, mean_events_per_user=events_per_user, seed=3)
    rows = catalog.interactions
    inter = build_interactions([r["user_id"] for r in rows], [r["item_id"] for r in rows], None,
                               np.array([r["timestamp"] for r in rows]))
    split = holdout_split(inter.matrix, test_fraction=0.25, seed=42)
    candidates = ("popularity", "itemknn", "als", "ease")
    result = auto_recommend(split.train, candidates=candidates, time_budget_s=120, seed=1)
    picked = evaluate(result.model, split.train, split.test).ndcg
    defaults = {name: evaluate(create(name).fit(split.train), split.train, split.test).ndcg for name in candidates}
    best = max(defaults.values())
    assert picked >= best - 0.01, (events_per_user, result.winner, picked, defaults)
    assert result.winner != "popularity" or max(defaults, key=defaults.__getitem__) == "popularity"
