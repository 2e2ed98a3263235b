from __future__ import annotations

import json

import pytest

from limelight.errors import InvalidParams
from limelight.recsys.auto import DEFAULT_CANDIDATES, SearchCancelled, auto_recommend
from limelight.recsys.evaluation import evaluate, holdout_split
from tests.recsys.conftest import Planted


class Stop(Exception):
    pass


def test_auto_tunes_every_candidate_and_keeps_the_best(planted: Planted) -> None:
    inter = planted.interactions
    split = holdout_split(inter.matrix, test_fraction=0.2, seed=5, timestamps=inter.timestamps)
    seen: list[tuple[float, str]] = []
    result = auto_recommend(
        split.train,
        timestamps=split.train_timestamps,
        progress=lambda p, m: seen.append((p, m)),
        time_budget_s=60,
    )
    assert [row.recipe for row in result.table] == [*DEFAULT_CANDIDATES, "blend"]
    best = max(result.table, key=lambda row: row.ndcg)
    assert result.winner == best.recipe and result.params == best.params
    assert result.winner != "popularity"  # the planted clusters beat popularity
    for row in result.table:
        assert row.trials >= 1 and row.train_seconds >= 0 and 0 <= row.coverage <= 1
        trials = [t for t in result.trials if t.recipe == row.recipe]
        assert len(trials) == row.trials and max(t.metrics.ndcg for t in trials) == row.ndcg
    popularity_trials = [t.params for t in result.trials if t.recipe == "popularity"]
    assert {"half_life_days": 30.0} in popularity_trials  # decay variants run when timestamps exist
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    # the refitted winner is an ordinary fitted recommender of the whole training matrix
    assert result.model.n_items == inter.n_items
    assert evaluate(result.model, split.train, split.test).ndcg > 0
    summary = json.loads(json.dumps(result.summary()))  # JSON-ready, for artifact metadata
    assert summary["winner"] == result.winner and summary["validation_metrics"]["ndcg@10"] == best.ndcg
    assert [r["recipe"] for r in summary["table"]] == [*DEFAULT_CANDIDATES, "blend"]


def test_auto_can_be_cancelled(planted: Planted) -> None:
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(SearchCancelled):
        auto_recommend(planted.interactions.matrix, check_cancelled=cancelled)

    def job_check() -> None:  # a job runner's check raises its own exception: it must propagate
        raise Stop

    with pytest.raises(Stop):
        auto_recommend(planted.interactions.matrix, check_cancelled=job_check)


def test_a_tiny_budget_still_runs_each_default_once(planted: Planted) -> None:
    result = auto_recommend(planted.interactions.matrix, candidates=("popularity", "ease"), time_budget_s=0.0)
    assert [row.trials for row in result.table] == [1, 1]


def test_auto_rejects_unknown_candidates(planted: Planted) -> None:
    with pytest.raises(InvalidParams):
        auto_recommend(planted.interactions.matrix, candidates=("ease", "magic"))


def test_too_little_data_names_what_a_user_needs_and_what_the_data_has() -> None:
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    cells = [(u, int(i)) for u in range(8) for i in rng.choice(10, size=3, replace=False)]  # 3 per user
    rows, cols = zip(*cells, strict=True)
    matrix = sp.csr_matrix((np.ones(len(cells), np.float32), (rows, cols)), shape=(8, 10))
    with pytest.raises(InvalidParams) as refused:
        auto_recommend(matrix, candidates=("popularity",), time_budget_s=5)
    assert refused.value.details["needed_per_user"] == 5 and refused.value.details["most_per_user"] == 3
    assert "at least 5" in refused.value.message and "the most any user has is 3" in refused.value.message
    wider = auto_recommend(matrix, candidates=("popularity",), validation_fraction=0.34, time_budget_s=5)
    assert wider.winner == "popularity"  # 3 x 0.34 rounds to one held-out interaction: enough
