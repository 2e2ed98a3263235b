from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.errors import InvalidParams
from limelight.recsys.algorithms import create
from limelight.recsys.evaluation import (
    average_precision_at_k,
    evaluate,
    holdout_split,
    ndcg_at_k,
    popularity_percentiles,
    recall_at_k,
)
from tests.recsys.conftest import Planted


def test_metrics_on_hand_computed_cases() -> None:
    hits = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]], bool)
    n_relevant = np.array([2, 3, 5])
    # user 0: DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal (2 hits) = 1 + 1/log2(3)
    ideal0 = 1 + 1 / np.log2(3)
    ideal2 = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    np.testing.assert_allclose(ndcg_at_k(hits, n_relevant), [1.5 / ideal0, 0.0, (1 / np.log2(3)) / ideal2])
    np.testing.assert_allclose(recall_at_k(hits, n_relevant), [1.0, 0.0, 0.2])
    # AP@3 user 0: (P@1 + P@3) / min(2, 3) = (1 + 2/3) / 2 ; user 2: (P@2) / 3 = 0.5 / 3
    np.testing.assert_allclose(average_precision_at_k(hits, n_relevant), [(1 + 2 / 3) / 2, 0.0, 0.5 / 3])


def test_perfect_ranking_scores_one() -> None:
    hits = np.array([[1, 1, 0, 0]], bool)
    assert ndcg_at_k(hits, np.array([2]))[0] == pytest.approx(1.0)
    assert average_precision_at_k(hits, np.array([2]))[0] == pytest.approx(1.0)


def test_popularity_percentiles() -> None:
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0]], np.float32))
    # counts 3, 2, 1, 0 -> ranks 4, 3, 2, 1 out of 4
    np.testing.assert_allclose(popularity_percentiles(train), [1.0, 0.75, 0.5, 0.25])


@pytest.mark.parametrize("by", ["random", "time"])
def test_splits_are_disjoint_and_complete(by: str, planted: Planted) -> None:
    inter = planted.interactions
    split = holdout_split(inter.matrix, test_fraction=0.25, seed=3, by=by, timestamps=inter.timestamps)  # type: ignore[arg-type]
    train, test = split.train, split.test
    assert train.multiply(test).nnz == 0  # no cell on both sides
    assert (train + test != inter.matrix).nnz == 0  # nothing lost, nothing invented
    counts, test_counts = np.diff(inter.matrix.indptr), np.diff(test.indptr)
    np.testing.assert_array_equal(test_counts, np.minimum(np.floor(counts * 0.25 + 0.5), counts - 1))
    assert split.train_timestamps is not None and split.train_timestamps.shape == (train.nnz,)
    if by == "time":  # every held-out interaction is at least as late as the user's training ones
        for u in range(inter.n_users):
            tr = split.train_timestamps[train.indptr[u] : train.indptr[u + 1]]
            te = split.test_timestamps[test.indptr[u] : test.indptr[u + 1]]  # type: ignore[index]
            assert te.size == 0 or te.min() >= tr.max()


def test_random_split_is_seeded(planted: Planted) -> None:
    m = planted.interactions.matrix
    a, b, c = (holdout_split(m, seed=s).test for s in (1, 1, 2))
    assert (a != b).nnz == 0 and (a != c).nnz > 0


def test_split_needs_timestamps_for_time_and_a_sane_fraction(planted: Planted) -> None:
    with pytest.raises(InvalidParams):
        holdout_split(planted.interactions.matrix, by="time")
    with pytest.raises(InvalidParams):
        holdout_split(planted.interactions.matrix, test_fraction=1.0)


class Oracle:
    """Scores exactly the held-out items highest: the metrics must then be perfect."""

    name: ClassVar[str] = "oracle"

    def __init__(self, test: sp.csr_matrix) -> None:
        self.test = test

    def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.test[users].toarray().astype(np.float32)

    def fit(self, matrix: sp.csr_matrix, **_: Any) -> Self:
        return self

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Self:
        raise NotImplementedError


def test_evaluate_full_ranking(planted: Planted) -> None:
    split = holdout_split(planted.interactions.matrix, test_fraction=0.25, seed=0)
    perfect = evaluate(Oracle(split.test), split.train, split.test, k=3)  # type: ignore[arg-type]
    assert perfect.ndcg == pytest.approx(1.0) and perfect.map == pytest.approx(1.0)
    assert perfect.users == int((np.diff(split.test.indptr) > 0).sum())
    # a perfect top-3 recalls min(|relevant|, 3) / |relevant| of each user
    n_rel = np.diff(split.test.indptr)
    assert perfect.recall == pytest.approx(np.mean(np.minimum(n_rel, 3) / n_rel))
    pop = evaluate(create("popularity").fit(split.train), split.train, split.test, k=10)
    knn = evaluate(create("itemknn").fit(split.train), split.train, split.test, k=10)
    assert pop.popularity_bias > 0.9 > knn.popularity_bias and pop.coverage < knn.coverage

    class Noise(Oracle):
        def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
            return np.random.default_rng(0).random((len(users), user_items.shape[1]), np.float32)

    noise = evaluate(Noise(split.test), split.train, split.test, k=10)  # type: ignore[arg-type]
    assert knn.ndcg > 2 * noise.ndcg and pop.ndcg > 2 * noise.ndcg
    assert set(knn.as_dict()) == {
        "ndcg@10",
        "recall@10",
        "map@10",
        "coverage@10",
        "popularity_bias@10",
        "users",
    }


def test_training_items_are_never_counted(planted: Planted) -> None:
    """A model that scores the user's own training items highest must not get credit for them."""
    split = holdout_split(planted.interactions.matrix, test_fraction=0.25, seed=0)

    class Echo(Oracle):
        def score_users(self, users: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
            return user_items.toarray().astype(np.float32) * 100.0

    echo = evaluate(Echo(split.test), split.train, split.test, k=10)  # type: ignore[arg-type]
    assert echo.ndcg < 0.5
