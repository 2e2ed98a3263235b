"""Fusion arithmetic, and the labelled check that picked ``mix`` as the default."""

from __future__ import annotations

import random

import numpy as np
import pytest

from limelight.search.fusion import fuse
from tests.search import catalog_data


def _side(indices: list[int], scores: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(indices, np.int64), np.array(scores, np.float32)


def test_mix_normalises_each_side_and_weights_them():
    semantic = _side([1, 2, 3], [0.9, 0.5, 0.1])
    lexical = _side([3, 4], [12.0, 2.0])
    indices, scores = fuse(semantic, lexical, weight=0.5, method="mix")
    by_item = dict(zip(indices.tolist(), scores.tolist(), strict=True))
    assert by_item[1] == pytest.approx(0.5) and by_item[3] == pytest.approx(0.5)
    assert by_item[2] == pytest.approx(0.25) and by_item[4] == pytest.approx(0.0)
    assert indices.tolist()[:2] == [1, 3]  # equal scores: the lower index first, every time


def test_weight_one_is_pure_semantic_and_zero_pure_lexical():
    semantic, lexical = _side([7, 8], [0.9, 0.8]), _side([8, 9], [3.0, 1.0])
    assert fuse(semantic, lexical, 1.0)[0].tolist()[0] == 7
    assert fuse(semantic, lexical, 0.0)[0].tolist()[0] == 8


def test_rrf_rewards_agreement_between_the_sides():
    indices, scores = fuse(_side([1, 2], [0.9, 0.8]), _side([2, 1], [5.0, 1.0]), 0.5, method="rrf")
    assert set(indices.tolist()) == {1, 2} and scores[0] == pytest.approx(scores[1])
    top = fuse(_side([1, 2, 3], [3, 2, 1]), _side([3], [1.0]), 0.5, method="rrf")[0]
    assert top[0] == 3  # in both lists beats first in one


def test_empty_sides_fuse_to_nothing():
    empty = _side([], [])
    assert fuse(empty, empty, 0.5)[0].shape == (0,)
    assert fuse(_side([4], [0.3]), empty, 0.5)[0].tolist() == [4]


def _labelled() -> list[tuple[str, str]]:
    """Titles (found by words), paraphrased plots (by meaning) and the planted pairs."""
    rows = catalog_data.items(200)
    sample = random.Random(1).sample(rows[2:], 30)
    paraphrase = {"Crime": "heist of a gambling hall", "Romance": "a love affair abroad",
                  "Sci-Fi": "space explorers find extraterrestrial life", "Horror": "a haunted home",
                  "Sport": "boxing champion story", "Drama": "courtroom trial of a wrongly accused man"}
    checks = [(str(r["title"]).lower(), str(r["item_id"])) for r in sample]
    checks += [(f"{paraphrase[str(r['genres']).split('|')[0]]} {str(r['title']).split()[-1]}", str(r["item_id"]))
               for r in sample]
    return checks + catalog_data.LABELLED


def _top1(engine, checks) -> float:  # type: ignore[no-untyped-def]
    answers = engine.search_many([{"query": q, "k": 10} for q, _ in checks])
    return sum(a["items"][0]["item_id"] == want for a, (_, want) in zip(answers, checks, strict=True)) / len(checks)


def test_score_mix_ranks_the_labelled_answers_first_at_least_as_often_as_rrf(engine_for):
    checks = _labelled()
    mix, rrf = _top1(engine_for(fusion="mix"), checks), _top1(engine_for(fusion="rrf"), checks)
    assert mix >= 0.9, mix
    assert mix >= rrf, (mix, rrf)
