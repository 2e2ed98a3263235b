from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from limelight.errors import InvalidParams, NotFound, UnsafeArtifactFormat, ValidationFailed
from limelight.recsys.algorithms import create
from limelight.recsys.artifact import load_model, save_model
from limelight.recsys.trained import TrainedRecommender
from tests.recsys.conftest import CLUSTER_B, RECIPES, SMALL_PARAMS, Planted, cluster_counts


def trained(name: str, planted: Planted) -> TrainedRecommender:
    inter = planted.interactions
    algo = create(name, SMALL_PARAMS.get(name)).fit(inter.matrix, timestamps=inter.timestamps)
    titles = {planted.item_id(i): f"Title {i}" for i in range(0, 120, 2)}  # half the catalog has titles
    return TrainedRecommender.from_interactions(
        algo, inter, metadata={"metrics": {"ndcg@10": 0.5}}, item_titles=titles
    )


@pytest.fixture(scope="module")
def models(planted: Planted) -> dict[str, TrainedRecommender]:
    return {name: trained(name, planted) for name in RECIPES}


@pytest.mark.parametrize("name", RECIPES)
def test_save_load_round_trip_gives_identical_answers(
    name: str, models: dict[str, TrainedRecommender], tmp_path: Path
) -> None:
    model = models[name]
    path = tmp_path / "model.npz"
    save_model(path, model)
    loaded = load_model(path)
    assert loaded.recipe == name and loaded.metadata["metrics"] == {"ndcg@10": 0.5}
    assert loaded.metadata["params"] == model.algorithm.params.model_dump(mode="json")
    for user in ("u000", "u150", "nobody"):
        a, b = model.recommend(user, 10), loaded.recommend(user, 10)
        assert a.item_ids == b.item_ids and a.scores == b.scores and a.fallback == b.fallback
    extra = {"i041": 1.0, "i042": 2.0}
    assert (
        model.recommend("u001", 5, extra_history=extra).item_ids
        == loaded.recommend("u001", 5, extra_history=extra).item_ids
    )
    assert model.similar("i045", 5).item_ids == loaded.similar("i045", 5).item_ids
    assert model.explain("u000", "i001") == loaded.explain("u000", "i001")
    assert (
        loaded.item_titles is not None and loaded.item_titles[2] == "Title 2" and loaded.item_titles[3] == ""
    )
    assert loaded.memory_bytes > 0
    # the file is plain numpy: it opens with pickle disabled and holds no object arrays
    with np.load(path, allow_pickle=False) as raw:
        assert all(raw[key].dtype.kind != "O" for key in raw.files)
        assert str(raw["format"]) == "limelight.recsys/1"


def test_load_from_a_file_object(models: dict[str, TrainedRecommender], tmp_path: Path) -> None:
    save_model(tmp_path / "m.npz", models["ease"])
    loaded = load_model(io.BytesIO((tmp_path / "m.npz").read_bytes()))
    assert loaded.recommend("u000", 3).item_ids == models["ease"].recommend("u000", 3).item_ids


def _rewrite(src: Path, dst: Path, **replace: np.ndarray) -> None:
    with np.load(src, allow_pickle=False) as raw:
        arrays = {key: raw[key] for key in raw.files}
    arrays.update(replace)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def test_a_pickled_array_inside_the_file_is_refused(
    models: dict[str, TrainedRecommender], tmp_path: Path
) -> None:
    good = tmp_path / "good.npz"
    save_model(good, models["popularity"])
    evil = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = {"run": "os.system"}  # np.savez pickles object arrays; load_model must never unpickle
    _rewrite(good, evil, **{"algo.scores": payload})
    with zipfile.ZipFile(evil) as z:
        assert b"\x80" in z.read("algo.scores.npy")  # the member really is a pickle
    with pytest.raises(UnsafeArtifactFormat):
        load_model(evil)


def test_a_plain_pickle_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(UnsafeArtifactFormat):
        load_model(path)


def test_structurally_bad_artifacts_are_refused(
    models: dict[str, TrainedRecommender], tmp_path: Path
) -> None:
    good = tmp_path / "good.npz"
    save_model(good, models["itemknn"])
    bad = tmp_path / "bad.npz"
    with np.load(good, allow_pickle=False) as raw:
        indices = raw["algo.similarity.indices"].copy()
    indices[0] = 10_000  # a column far outside the catalog
    _rewrite(good, bad, **{"algo.similarity.indices": indices})
    with pytest.raises(ValidationFailed):
        load_model(bad)
    _rewrite(good, bad, format=np.array("something/else"))
    with pytest.raises(ValidationFailed):
        load_model(bad)
    _rewrite(good, bad, metadata=np.array('{"recipe": "svd"}'))
    with pytest.raises(ValidationFailed):
        load_model(bad)
    _rewrite(good, bad, popularity=np.zeros(3, np.float32))
    with pytest.raises(ValidationFailed):
        load_model(bad)
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValidationFailed):
        load_model(tmp_path / "junk.npz")


def test_metadata_must_be_json(models: dict[str, TrainedRecommender], tmp_path: Path) -> None:
    model = models["popularity"]
    odd = TrainedRecommender(
        model.algorithm,
        model.user_ids,
        model.item_ids,
        model.user_items,
        model.popularity,
        {"when": object()},
    )
    with pytest.raises(InvalidParams):
        save_model(tmp_path / "m.npz", odd)
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


@pytest.mark.parametrize("name", RECIPES)
def test_unknown_user_gets_the_popularity_fallback(name: str, models: dict[str, TrainedRecommender]) -> None:
    model = models[name]
    result = model.recommend("somebody-new", 10)
    assert result.fallback is True
    assert set(result.item_ids) == {f"i{i:03d}" for i in range(80, 90)}  # the blockbusters
    known = model.recommend("u000", 10)
    assert known.fallback is False


@pytest.mark.parametrize("name", ["itemknn", "als", "bpr", "ease"])
def test_unknown_user_with_fresh_history_is_folded_in(
    name: str, models: dict[str, TrainedRecommender]
) -> None:
    model = models[name]
    history = [f"i{i:03d}" for i in CLUSTER_B[:8]] + ["an-item-newer-than-the-model"]
    result = model.recommend("somebody-new", 10, extra_history=history)
    assert result.fallback is False
    assert not set(result.item_ids) & set(history)  # their own history is excluded
    assert cluster_counts(result.item_indices)[1] >= 6


def test_exclude_seen_filters_and_exclusions(models: dict[str, TrainedRecommender]) -> None:
    model = models["ease"]
    seen = {model.item_ids[i] for i in model.user_items[0].indices}
    assert not seen & set(model.recommend("u000", 20).item_ids)
    assert seen & set(model.recommend("u000", 120, exclude_seen=False).item_ids)
    only = [f"i{i:03d}" for i in range(100, 110)]
    got = model.recommend(
        "u000", 10, filters={"item_ids": only, "exclude_item_ids": ["i100"]}, exclude_items=["i101"]
    )
    assert set(got.item_ids) <= set(only) - {"i100", "i101"}
    mask = np.zeros(120, bool)
    mask[[5, 6]] = True
    assert set(model.recommend("u150", 10, candidate_mask=mask, exclude_seen=False).item_ids) <= {
        "i005",
        "i006",
    }
    with pytest.raises(InvalidParams):
        model.recommend("u000", 10, filters={"genre": "Horror"})
    with pytest.raises(InvalidParams):
        model.recommend("u000", 0)


def test_similar_and_explain_use_string_ids(models: dict[str, TrainedRecommender]) -> None:
    model = models["itemknn"]
    assert all(i.startswith("i0") for i in model.similar("i045", 5).item_ids)
    target = model.recommend("u000", 1).item_ids[0]
    reasons = model.explain("u000", target)
    history = {model.item_ids[i] for i in model.user_items[0].indices}
    assert reasons and {item for item, _ in reasons} <= history
    assert model.explain("somebody-new", target) == []
    assert model.explain("somebody-new", target, extra_history=["i001", "i002"])
    with pytest.raises(NotFound):
        model.similar("no-such-item")
    with pytest.raises(NotFound):
        model.explain("u000", "no-such-item")


def test_recommend_batch_is_the_serving_shape(models: dict[str, TrainedRecommender]) -> None:
    model = models["als"]
    out = model.recommend_batch(
        [
            {"user_id": "u000", "k": 3, "exclude_seen": True, "filters": {}},
            {"user_id": "stranger", "k": 2, "exclude_seen": True, "filters": {}},
        ]
    )
    assert [len(o["items"]) for o in out] == [3, 2]
    assert out[0]["fallback"] is False and out[1]["fallback"] is True
    assert set(out[0]["items"][0]) == {"item_id", "score", "title"}
    assert out[0]["items"][0]["item_id"] == model.recommend("u000", 3).item_ids[0]


@pytest.mark.parametrize("name", RECIPES)
def test_recommend_batch_matches_single_requests(name: str, models: dict[str, TrainedRecommender]) -> None:
    model = models[name]
    requests: list[dict[str, Any]] = [
        {"user_id": u, "k": 5, "exclude_seen": seen, "filters": filters}
        for u in ("u000", "u120", "stranger")
        for seen in (True, False)
        for filters in ({}, {"exclude_item_ids": ["i081"]})
    ]
    batch = model.recommend_batch(requests)
    for request, answer in zip(requests, batch, strict=True):
        single = model.recommend(
            request["user_id"], 5, exclude_seen=request["exclude_seen"], filters=request["filters"]
        )
        assert [i["item_id"] for i in answer["items"]] == single.item_ids
        assert [i["score"] for i in answer["items"]] == pytest.approx(single.scores, rel=1e-5)
