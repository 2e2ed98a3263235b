"""Content-based cold start on a synthetic catalog whose item texts carry the genre signal users follow.

Items are embedded once per session with the bundled MiniLM (a few seconds for 200 items).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from limelight.recsys.algorithms.hybrid import Hybrid, HybridParams
from limelight.recsys.artifact import load_model, save_model
from limelight.recsys.cold_start import evaluate_cold_start, item_holdout
from limelight.recsys.interactions import build_interactions
from limelight.recsys.trained import TrainedRecommender

N_COLD = 20


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    """The catalog, its interactions with the last N_COLD items removed entirely, and the embeddings."""
    from limelight.recsys.content import embed_texts, item_texts
    from limelight.recsys.synthetic import generate_catalog

    catalog = generate_catalog(n_items=200, n_users=200, seed=5)
    cold_ids = {item["item_id"] for item in catalog.items[-N_COLD:]}
    kept = [e for e in catalog.interactions if e["item_id"] not in cold_ids]
    inter = build_interactions([e["user_id"] for e in kept], [e["item_id"] for e in kept], None, None,
                               item_catalog=[i["item_id"] for i in catalog.items])
    embeddings = embed_texts(item_texts(inter.item_ids, catalog.items_table()))
    return catalog, inter, embeddings, sorted(cold_ids)


@pytest.fixture(scope="module")
def trained(world):  # type: ignore[no-untyped-def]
    _, inter, embeddings, _ = world
    model = Hybrid(HybridParams(base="ease", base_params={"l2": 50.0}), embeddings).fit(inter.matrix)
    return TrainedRecommender.from_interactions(model, inter)


def _genres(catalog, item_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(next(i for i in catalog.items if i["item_id"] == item_id)["genres"])


@pytest.mark.parametrize("base, base_params", [("ease", {"l2": 50.0}), ("als", {"factors": 32, "iterations": 10, "regularization": 5.0})])
def test_cold_items_rank_far_better_than_without_content_and_warm_ranking_is_unchanged(world, base, base_params):
    _, inter, embeddings, _ = world
    report = evaluate_cold_start(inter.matrix, embeddings, HybridParams(base=base, base_params=base_params),
                                 k=10, cold_fraction=0.2, seed=1)
    assert report.cold_users > 50 and report.cold_items > 20
    assert report.cold_ndcg > report.cold_ndcg_baseline + 0.15, report
    assert report.cold_recall > report.cold_recall_baseline
    assert report.warm_ndcg == pytest.approx(report.warm_ndcg_base, abs=1e-9)
    assert set(report.metrics()) >= {"cold_ndcg_at_10", "cold_ndcg_at_10_baseline", "warm_ndcg_at_10"}


def test_item_holdout_removes_every_interaction_of_the_held_items(world):
    _, inter, _, _ = world
    train, held = item_holdout(inter.matrix, 0.25, seed=3)
    assert train[:, held].nnz == 0 and inter.matrix[:, held].nnz > 0
    assert train.nnz + inter.matrix[:, held].nnz == inter.matrix.nnz


def test_a_cold_item_is_recommended_to_users_whose_history_matches_its_text(world, trained):
    catalog, inter, _, cold_ids = world
    hits = 0
    for row, user_id in enumerate(inter.user_ids[:60].tolist()):
        seen = set(inter.item_ids[inter.matrix[row].indices].tolist())
        result = trained.recommend(user_id, 20)
        assert not set(result.item_ids) & seen
        liked = [g for i in seen for g in _genres(catalog, i)]
        favourite = max(set(liked), key=liked.count)
        cold_recommended = [i for i in result.item_ids if i in cold_ids]
        hits += sum(favourite in _genres(catalog, i) for i in cold_recommended)
    assert hits >= 10  # cold items do reach top-20 lists, and for the genre the user watches most


def test_cold_items_respect_filters_and_exclusions(world, trained):
    _, inter, _, cold_ids = world
    user = inter.user_ids[0]
    only_cold = trained.recommend(user, 5, filters={"item_ids": cold_ids})
    assert len(only_cold.item_ids) == 5 and set(only_cold.item_ids) <= set(cold_ids)
    excluded = only_cold.item_ids[:3]
    again = trained.recommend(user, 5, filters={"item_ids": cold_ids, "exclude_item_ids": excluded})
    assert not set(again.item_ids) & set(excluded)
    # a cold item the user just watched (live event) is not recommended back
    watched = trained.recommend(user, len(cold_ids), extra_history={excluded[0]: 1.0},
                                filters={"item_ids": cold_ids})
    assert excluded[0] not in watched.item_ids


def test_similar_and_explain_of_a_cold_item_come_from_its_text(world, trained):
    catalog, inter, embeddings, cold_ids = world
    cold = cold_ids[0]
    similar = trained.similar(cold, 10)
    assert len(similar.item_ids) == 10 and cold not in similar.item_ids
    def sharing(ids: list[str]) -> float:
        return float(np.mean([bool(_genres(catalog, i) & _genres(catalog, cold)) for i in ids]))

    assert sharing(similar.item_ids) >= sharing([i for i in inter.item_ids.tolist() if i != cold]) + 0.2
    user = inter.user_ids[0]
    because = trained.explain(user, cold)
    history = set(inter.item_ids[inter.matrix[0].indices].tolist())
    assert because and {i for i, _ in because} <= history
    assert [c for _, c in because] == sorted((c for _, c in because), reverse=True)


def test_a_warm_items_similar_list_can_include_cold_items(world, trained):
    _, inter, _, cold_ids = world
    counts = np.diff(inter.matrix.tocsc().indptr)
    warm = [i for i, c in zip(inter.item_ids.tolist(), counts, strict=True) if c >= 5][:40]
    assert any(set(trained.similar(i, 10).item_ids) & set(cold_ids) for i in warm)


def test_artifact_round_trip_keeps_cold_answers(trained, world, tmp_path: Path):
    _, inter, _, cold_ids = world
    save_model(tmp_path / "hybrid.npz", trained)
    loaded = load_model(tmp_path / "hybrid.npz")
    assert loaded.algorithm.name == "hybrid" and loaded.metadata["recipe"] == "hybrid"
    user = inter.user_ids[3]
    assert loaded.recommend(user, 10).item_ids == trained.recommend(user, 10).item_ids
    assert loaded.similar(cold_ids[1], 5).item_ids == trained.similar(cold_ids[1], 5).item_ids
    with np.load(tmp_path / "hybrid.npz", allow_pickle=False) as arrays:
        assert "algo.embeddings" in arrays.files and "algo.cold_items" in arrays.files


def test_fit_without_embeddings_is_invalid_params(world):
    from limelight.errors import InvalidParams

    _, inter, _, _ = world
    with pytest.raises(InvalidParams):
        Hybrid(HybridParams()).fit(inter.matrix)
