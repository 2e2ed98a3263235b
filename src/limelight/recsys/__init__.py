"""The pure recommendation engine: interactions, recipes, evaluation, auto-tuning, artifacts.

No web, no database. A training job builds :class:`Interactions`, fits a recipe (or runs
:func:`limelight.recsys.auto.auto_recommend`), wraps it in :class:`TrainedRecommender` and writes it
with :func:`save_model`; a serving runtime calls :func:`load_model` and ``recommend``/``similar``/
``explain`` on string ids. Importing this package loads numpy/scipy/pydantic only; ``implicit``
is imported inside the ALS/BPR/item-kNN ``fit`` calls.
"""

from __future__ import annotations

from limelight.recsys.algorithms import ALGORITHMS, algorithm_class, create, params_class
from limelight.recsys.artifact import load_model, save_model
from limelight.recsys.auto import AutoResult, CandidateReport, SearchCancelled, auto_recommend
from limelight.recsys.base import History, Recommender
from limelight.recsys.evaluation import RankingMetrics, Split, evaluate, holdout_split
from limelight.recsys.interactions import (
    EventWeights,
    Interactions,
    build_interactions,
    interactions_from_records,
)
from limelight.recsys.trained import RecommendResult, TrainedRecommender

__all__ = [
    "ALGORITHMS",
    "AutoResult",
    "CandidateReport",
    "EventWeights",
    "History",
    "Interactions",
    "RankingMetrics",
    "RecommendResult",
    "Recommender",
    "SearchCancelled",
    "Split",
    "TrainedRecommender",
    "algorithm_class",
    "auto_recommend",
    "build_interactions",
    "create",
    "evaluate",
    "holdout_split",
    "interactions_from_records",
    "load_model",
    "params_class",
    "save_model",
]
