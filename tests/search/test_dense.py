"""Exact search, HNSW recall against it, and filters on both."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.search.building import ann_recall
from limelight.search.dense import DenseIndex, top_k


def _vectors(n: int = 5000, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Half uniform noise, half tight clusters: the hard and the easy case for a graph index."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(25, dim))
    clustered = centres[rng.integers(0, 25, n // 2)] + 0.15 * rng.normal(size=(n // 2, dim))
    vectors = np.vstack([rng.normal(size=(n - n // 2, dim)), clustered]).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def ann_index() -> DenseIndex:
    return DenseIndex(_vectors(), ann=True, m=16, ef_construction=200, ef_search=200, seed=1)


def _queries(n: int = 100) -> np.ndarray:
    return _vectors(n, seed=9)  # from the same mixture, not from the index


def test_top_k_is_sorted_and_respects_the_mask():
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.3], np.float32)
    assert top_k(scores, 3)[0].tolist() == [1, 3, 2]
    mask = np.array([True, False, True, False, True])
    assert top_k(scores, 2, mask)[0].tolist() == [2, 4]
    assert top_k(scores, 10, mask)[0].tolist() == [2, 4, 0]
    assert top_k(scores, 3, np.zeros(5, bool))[0].shape == (0,)


def test_hnsw_recall_at_10_against_exact_is_at_least_0_95_at_ef_search_200(ann_index):
    assert ann_index.kind == "approximate"
    assert ann_recall(ann_index, _queries()) >= 0.95
    narrow = DenseIndex(ann_index.embeddings, ann=True, m=16, ef_construction=200, ef_search=16, seed=1)
    assert ann_recall(narrow, _queries()) < 0.95  # the check can fail: a narrow beam misses neighbours


def test_exact_index_answers_exactly():
    index = DenseIndex(_vectors(500), ann=False)
    assert index.kind == "exact" and ann_recall(index, _queries(20)) == 1.0


@pytest.mark.parametrize("share", [0.5, 0.2, 0.01])
def test_filtered_hnsw_returns_only_candidates_and_finds_the_exact_answer(ann_index, share):
    rng = np.random.default_rng(3)
    mask = rng.random(ann_index.embeddings.shape[0]) < share
    found = total = 0
    for query in _queries(30):
        indices, scores = ann_index.search(query, 10, mask)
        assert len(indices) == 10 and mask[indices].all()
        assert np.all(np.diff(scores) <= 1e-6)
        found += len(set(indices.tolist()) & set(ann_index.exact(query, 10, mask)[0].tolist()))
        total += 10
    assert found / total >= 0.95
