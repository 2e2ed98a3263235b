"""``recommend/auto``: tune every candidate recipe on a validation split, keep the best by NDCG@k.

Protocol. Validation splits are carved out of the training data only (per-user holdout of
``validation_fraction``, random or by time), so the caller's own test data is never seen. Every
trial fits on the rest and ranks all items (see ``evaluation.py``), on ``validation_repeats``
splits with different seeds, and is judged by the mean NDCG@k. Why two small holdouts (10%, not one
20%): recipes gain unequally from more data (on ml-latest-small EASE gains more than ALS), so the
validation fit should see nearly as much data as the final refit; and on a small holdout one split's
noise (about ±0.003 NDCG there) is as large as the gaps between the best recipes, so it is averaged.

Search, per recipe (each trial = one fit + one full-ranking evaluation):

1. the recipe's defaults;
2. a multiplicative line search on each of its key parameters in turn (``SEARCH_SPACES``: EASE's
   λ, item-kNN's neighbourhood size, ALS's regularisation and then its confidence alpha, BPR's
   learning rate), each from the best point so far: try x2 and /2, keep going (x2 each step) while
   NDCG improves, within bounds and ``max_line_steps``; a log grid that adapts to the data's scale,
   where a fixed grid would not;
3. the discrete ``variants`` at the best point found, kept only if they improve (item-kNN's
   shrinkage and cosine similarity, ALS's factor counts, BPR's, popularity's time decay).

Then the two best recipes are blended (``algorithms.blend``: per-user standardised scores, weights
from ``BLEND_WEIGHTS`` tried on the same splits with both members fitted once per split); the blend
is one more row of the table and wins only if it beats every single recipe on validation.

Time-bounded: each recipe gets an equal share of ``time_budget_s`` (unused time rolls over to the
next recipe); once a recipe's share is spent no new trial starts for it, but its defaults always run.
The winner is refitted on all the training data (validation holdouts included) with its best params.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from limelight.errors import InvalidParams
from limelight.recsys.algorithms import ALGORITHMS, create
from limelight.recsys.base import Recommender
from limelight.recsys.evaluation import RankingMetrics, Split, evaluate, holdout_split

__all__ = [
    "DEFAULT_CANDIDATES",
    "SEARCH_SPACES",
    "AutoResult",
    "CandidateReport",
    "SearchCancelled",
    "Axis",
    "SearchSpace",
    "Trial",
    "auto_recommend",
]

ProgressFn = Callable[[float, str], None]
CancelCheck = Callable[[], object]
DEFAULT_CANDIDATES = ("popularity", "itemknn", "als", "bpr", "ease")


class SearchCancelled(Exception):
    """The cancellation check returned True; the caller (a job) records the job as cancelled."""


@dataclass(frozen=True)
class Axis:
    """One parameter searched multiplicatively from its default, within ``bounds``."""

    key: str
    bounds: tuple[float, float] = (0.0, float("inf"))
    integer: bool = False


@dataclass(frozen=True)
class SearchSpace:
    axes: tuple[Axis, ...] = ()  # searched one after the other, each from the best found so far
    variants: tuple[Mapping[str, Any], ...] = ()
    needs_timestamps: bool = False  # variants only make sense with timestamps


SEARCH_SPACES: Mapping[str, SearchSpace] = MappingProxyType(
    {
        "popularity": SearchSpace(
            variants=({"half_life_days": 30.0}, {"half_life_days": 365.0}), needs_timestamps=True
        ),
        "itemknn": SearchSpace((Axis("neighbours", (5, 1000), integer=True),),
                               variants=({"shrinkage": 10.0}, {"shrinkage": 100.0}, {"similarity": "cosine"})),
        "als": SearchSpace((Axis("regularization", (0.01, 1e4)), Axis("alpha", (0.05, 100.0))),
                           variants=({"factors": 64}, {"factors": 256})),
        "bpr": SearchSpace((Axis("learning_rate", (1e-4, 0.2)),), variants=({"factors": 128},)),
        "ease": SearchSpace((Axis("l2", (1.0, 1e6)),)),
    }
)


@dataclass(frozen=True)
class Trial:
    recipe: str
    params: dict[str, Any]
    metrics: RankingMetrics
    train_seconds: float


@dataclass(frozen=True)
class CandidateReport:
    """The best trial of one recipe: validation metrics and the fit time of that configuration."""

    recipe: str
    params: dict[str, Any]
    ndcg: float
    recall: float
    map: float
    coverage: float
    popularity_bias: float
    train_seconds: float
    trials: int
    search_seconds: float

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class AutoResult:
    winner: str
    params: dict[str, Any]
    model: Recommender  # refitted on all the training data
    table: list[CandidateReport]
    trials: list[Trial] = field(repr=False)
    k: int = 10
    refit_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-ready record for artifact metadata and job results: winner, its validation metrics,
        and the whole comparison table."""
        best = next(row for row in self.table if row.recipe == self.winner)
        metrics = {
            f"{name}@{self.k}": getattr(best, name)
            for name in ("ndcg", "recall", "map", "coverage", "popularity_bias")
        }
        return {
            "winner": self.winner,
            "params": self.params,
            "validation_metrics": metrics,
            "table": [row.as_row() for row in self.table],
            "refit_seconds": self.refit_seconds,
        }


def _mean_metrics(results: Sequence[RankingMetrics]) -> RankingMetrics:
    first = results[0]
    mean = {
        name: float(np.mean([getattr(r, name) for r in results]))
        for name in ("ndcg", "recall", "map", "coverage", "popularity_bias")
    }
    return RankingMetrics(k=first.k, users=first.users, **mean)


@dataclass
class _Search:
    recipe: str
    space: SearchSpace
    splits: Sequence[Split]
    k: int
    deadline: float
    check: Callable[[], None]
    trials: list[Trial] = field(default_factory=list)

    @property
    def has_timestamps(self) -> bool:
        return self.splits[0].train_timestamps is not None

    def run(self, params: dict[str, Any]) -> Trial:
        results, seconds = [], []
        for split in self.splits:
            self.check()
            model = create(self.recipe, params)
            start = time.perf_counter()
            model.fit(split.train, timestamps=split.train_timestamps)
            seconds.append(time.perf_counter() - start)
            results.append(evaluate(model, split.train, split.test, k=self.k))
        trial = Trial(
            self.recipe, model.params.model_dump(mode="json"), _mean_metrics(results), float(np.mean(seconds))
        )
        self.trials.append(trial)
        return trial

    def out_of_time(self) -> bool:
        return time.perf_counter() >= self.deadline

    def best(self) -> Trial:
        return max(self.trials, key=lambda t: t.metrics.ndcg)  # first one wins ties: defaults first


def _step(axis: Axis, value: float, factor: float) -> float | None:
    new = value * factor
    new = float(round(new)) if axis.integer else new
    lo, hi = axis.bounds
    return new if lo <= new <= hi and new != value else None


def _line_search(search: _Search, axis: Axis, max_steps: int) -> None:
    best = search.best()
    for factor in (2.0, 0.5):
        improved = False
        value = best.params[axis.key]
        for _ in range(max_steps):
            candidate = None if search.out_of_time() else _step(axis, value, factor)
            if candidate is None:
                break
            trial = search.run({**best.params, axis.key: int(candidate) if axis.integer else candidate})
            if trial.metrics.ndcg <= best.metrics.ndcg:
                break
            best, value, improved = trial, candidate, True
        if improved:
            return  # it got better in this direction, so the other one is not worth a trial


def _search_recipe(search: _Search, max_line_steps: int) -> Trial:
    search.run({})
    for axis in search.space.axes:
        _line_search(search, axis, max_line_steps)
    if search.has_timestamps or not search.space.needs_timestamps:
        base = search.best()
        for variant in search.space.variants:
            if search.out_of_time():
                break
            search.run({**base.params, **variant})
    return search.best()


def _report(recipe: str, search: _Search, seconds: float) -> CandidateReport:
    best = search.best()
    m = best.metrics
    return CandidateReport(
        recipe,
        best.params,
        m.ndcg,
        m.recall,
        m.map,
        m.coverage,
        m.popularity_bias,
        best.train_seconds,
        len(search.trials),
        seconds,
    )


BLEND_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # of the better member; the other gets the rest


def _search_blend(table: Sequence[CandidateReport], splits: Sequence[Split], k: int, deadline: float,
                  check: Callable[[], None]) -> tuple[CandidateReport, list[Trial]]:
    """The two best recipes, each with its best params, blended with the validation-best weights.

    Both members are fitted once per split; each weight is then one evaluation, no refit."""
    from limelight.recsys.algorithms.blend import Blend

    begin = time.perf_counter()
    first, second = sorted(table, key=lambda row: -row.ndcg)[:2]
    fitted, seconds = [], []
    for split in splits:
        check()
        start = time.perf_counter()
        fitted.append([create(row.recipe, row.params).fit(split.train, timestamps=split.train_timestamps)
                       for row in (first, second)])
        seconds.append(time.perf_counter() - start)
    trials: list[Trial] = []
    for weight in BLEND_WEIGHTS:
        if trials and time.perf_counter() >= deadline:
            break
        rows = sorted(((weight, first), (1.0 - weight, second)), key=lambda pair: -pair[0])
        params = {"members": [{"recipe": row.recipe, "params": row.params, "weight": round(w, 3)}
                              for w, row in rows]}
        results = []
        for split, models in zip(splits, fitted, strict=True):
            check()
            ordered = models if rows[0][1] is first else models[::-1]
            results.append(evaluate(Blend(params).attach(ordered), split.train, split.test, k=k))
        trials.append(Trial("blend", params, _mean_metrics(results), float(np.sum(seconds) / len(splits))))
    best = max(trials, key=lambda t: t.metrics.ndcg)
    m = best.metrics
    report = CandidateReport("blend", best.params, m.ndcg, m.recall, m.map, m.coverage, m.popularity_bias,
                             best.train_seconds, len(trials), time.perf_counter() - begin)
    return report, trials


def _checker(check_cancelled: CancelCheck | None) -> Callable[[], None]:
    def check() -> None:
        if check_cancelled is not None and check_cancelled() is True:
            raise SearchCancelled("recommend/auto was cancelled")

    return check


def auto_recommend(
    matrix: sp.csr_matrix,
    *,
    timestamps: np.ndarray | None = None,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    k: int = 10,
    validation_fraction: float = 0.1,
    validation_repeats: int = 2,
    split_by: Literal["random", "time"] = "random",
    seed: int = 0,
    time_budget_s: float = 600.0,
    max_line_steps: int = 3,
    blend: bool = True,
    progress: ProgressFn | None = None,
    check_cancelled: CancelCheck | None = None,
) -> AutoResult:
    """Tune ``candidates`` on a validation split of ``matrix``; return the table and the refitted winner.

    With ``blend``, the two best candidates are also tried together (``algorithms.blend``), their
    weights chosen on the same validation splits. ``progress(percent, message)`` is called after each recipe; ``check_cancelled()`` before every
    fit: if it returns True the search raises :class:`SearchCancelled` (it may also raise its own
    exception, e.g. the job runner's, which propagates untouched).
    """
    unknown = [c for c in candidates if c not in ALGORITHMS]
    if unknown or not candidates:
        raise InvalidParams(
            "unknown or no candidate recipes", details={"unknown": unknown, "known": sorted(ALGORITHMS)}
        )
    report = progress or (lambda percent, message: None)
    check = _checker(check_cancelled)
    if validation_repeats < 1:
        raise InvalidParams("validation_repeats must be at least 1")
    splits = [
        holdout_split(
            matrix, test_fraction=validation_fraction, seed=seed + r, by=split_by, timestamps=timestamps
        )
        for r in range(
            validation_repeats if split_by == "random" else 1
        )  # a time split is the same every time
    ]
    if splits[0].test.nnz == 0:
        # a user lends round(n * fraction) interactions to validation and keeps one to train on, so
        # the fewest that lends any is the smallest n with n * fraction >= 0.5 (and n >= 2)
        needed = max(2, math.ceil(0.5 / validation_fraction - 1e-9))
        most = int(np.diff(sp.csr_matrix(matrix).indptr).max(initial=0))
        raise InvalidParams(
            f"too little data for recommend/auto's validation split: it holds out {validation_fraction:.0%} of "
            f"each user's interactions, so a user needs at least {needed} of them, and the most any user has "
            f"is {most}. Add interactions, or train one recipe (recommend/popularity, recommend/itemknn) "
            "without tuning.",
            details={"field": "dataset", "reason": "too_few_interactions_per_user", "needed_per_user": needed,
                     "most_per_user": most},
        )
    started = time.perf_counter()
    searches: dict[str, _Search] = {}
    table = []
    for position, recipe in enumerate(candidates):
        share = (time_budget_s - (time.perf_counter() - started)) / (len(candidates) - position)
        begin = time.perf_counter()
        search = _Search(recipe, SEARCH_SPACES[recipe], splits, k, begin + share, check)
        _search_recipe(search, max_line_steps)
        searches[recipe] = search
        table.append(_report(recipe, search, time.perf_counter() - begin))
        best = search.best()
        report(
            90.0 * (position + 1) / len(candidates),
            f"{recipe}: ndcg@{k}={best.metrics.ndcg:.4f} after {len(search.trials)} trials",
        )
    blend_trials: list[Trial] = []
    if blend and len(table) >= 2 and time.perf_counter() - started < time_budget_s:
        row, blend_trials = _search_blend(table, splits, k, started + time_budget_s, check)
        table.append(row)
        report(90.0, f"blend of {' + '.join(m['recipe'] for m in row.params['members'])}: ndcg@{k}={row.ndcg:.4f}")
    winner = max(table, key=lambda row: row.ndcg)  # the first wins ties: a single recipe over the blend
    check()
    report(90.0, f"refitting {winner.recipe} on all training data")
    start = time.perf_counter()
    model = create(winner.recipe, winner.params).fit(matrix, timestamps=timestamps)
    refit = time.perf_counter() - start
    report(100.0, f"winner {winner.recipe} (validation ndcg@{k}={winner.ndcg:.4f})")
    trials = [t for s in searches.values() for t in s.trials] + blend_trials
    return AutoResult(winner.recipe, winner.params, model, table, trials, k, refit)
