"""``predict-behaviour/churn`` and ``predict-behaviour/next-action``: who will go quiet, or who will
do a given action (``purchase``, ``complete``…), within ``horizon_days`` after a cutoff.

The job reads the ``interactions`` dataset (plus its live events), an optional ``users`` dataset
(profile columns; strings become LightGBM categories) and an optional ``items`` dataset (genres),
builds snapshots at the validation cutoff and earlier training cutoffs (``behaviour.snapshots``),
fits and calibrates (``behaviour.training``) and writes one ``.npz`` (``behaviour.artifact``) for
the ``behaviour`` runtime. Cutoffs outside the data are refused at submission when the dataset's
profile shows it, and again at run time (live events may extend the range): 422
``cutoff_out_of_range`` with the data's range in the details.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from limelight.behaviour.params import BehaviourParams, NextActionParams, ScoreUsersParams
from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult


class _BehaviourRecipe:
    name: ClassVar[str]
    Params: ClassVar[type[RecipeParams]]
    task: ClassVar[str] = "predict-behaviour"
    dataset_kind: ClassVar[str] = "interactions"
    target: ClassVar[Literal["churn", "next-action"]]

    def check_dataset(self, params: dict[str, Any], profile: dict[str, Any]) -> None:
        """Refuse, at submission, cutoffs the dataset's time range cannot support."""
        from limelight.behaviour.training_job import check_cutoffs

        stamps = (profile.get("columns") or {}).get("timestamp") or {}
        if stamps.get("min") is None or stamps.get("max") is None:
            raise InvalidParams(f"{self.name} needs a timestamp column in the interactions.",
                                details={"field": "dataset"})
        checked = self.Params.model_validate(params)
        assert isinstance(checked, BehaviourParams)
        check_cutoffs(checked, int(stamps["min"]), int(stamps["max"]))

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.behaviour.training_job import train

        assert isinstance(params, BehaviourParams)
        return train(ctx, params, self.target, getattr(params, "event_type", None))


class ChurnRecipe(_BehaviourRecipe):
    name: ClassVar[str] = "predict-behaviour/churn"
    target = "churn"
    description: ClassVar[str] = ("Who goes quiet: no activity in the next horizon_days, from the history before "
                                  "a cutoff; calibrated LightGBM with reasons, against a recency baseline.")
    Params: ClassVar[type[RecipeParams]] = BehaviourParams


class NextActionRecipe(_BehaviourRecipe):
    name: ClassVar[str] = "predict-behaviour/next-action"
    target = "next-action"
    description: ClassVar[str] = ("Who acts next: an event of type event_type (purchase, complete…) in the next "
                                  "horizon_days; calibrated LightGBM with reasons.")
    Params: ClassVar[type[RecipeParams]] = NextActionParams


class ScoreUsersRecipe:
    """Not a training: reads a version of the job's ``model`` and stores every user it knows, ranked,
    as a version of ``params.output_dataset`` (``rank``, ``user_id``, ``probability``, ``top_reason``,
    ``reasons``). The version is fixed when the job is submitted."""

    name: ClassVar[str] = "predict-behaviour/score-users"
    task: ClassVar[str] = "predict-behaviour"
    dataset_kind: ClassVar[str] = "users"  # what it writes
    consumes: ClassVar[str] = "model"
    produces: ClassVar[str] = "dataset"
    description: ClassVar[str] = ("Batch scoring: every user a churn or next-action model knows, most likely first, "
                                  "with reasons, stored as a users dataset (downloads as CSV or Parquet).")
    Params: ClassVar[type[RecipeParams]] = ScoreUsersParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.behaviour.scoring import score_to_dataset

        assert isinstance(params, ScoreUsersParams)
        return score_to_dataset(ctx, params)


def behaviour_recipes() -> list[Any]:
    return [ChurnRecipe(), NextActionRecipe(), ScoreUsersRecipe()]


