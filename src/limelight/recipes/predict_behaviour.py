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

import math
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult


class BehaviourParams(RecipeParams):
    cutoff: str | None = Field(None, max_length=40, description="the validation cutoff, an ISO date or epoch "
                               "seconds; default: the data's last timestamp minus the horizon")
    horizon_days: int = Field(30, ge=1, le=3650, description="label window after a cutoff, in days")
    cutoffs: list[str] | None = Field(None, max_length=24, description="training cutoffs, each at least a horizon "
                                      "before cutoff; default: training_snapshots of them")
    training_snapshots: int = Field(3, ge=1, le=24, description="how many training cutoffs when cutoffs is not "
                                                              "given: the cutoff minus the horizon, then a step apart")
    snapshot_step_days: int | None = Field(None, ge=1, le=3650, description="days between default training "
                                                                            "cutoffs; default: the horizon")
    active_within_days: int | None = Field(None, ge=1, le=36500, description="predict only for users with an "
                                           "event in these many days before a cutoff; default: any history")
    include_live_events: bool = Field(True, description="use the events posted for this dataset too")
    num_boost_round: int = Field(200, ge=1, le=5000)
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(15, ge=2, le=1024)
    min_data_in_leaf: int = Field(20, ge=1, le=10_000)
    calibration: Literal["auto", "isotonic", "platt"] = Field("auto", description="auto: isotonic from 200 "
                                                                                   "held-out rows, else Platt")
    seed: int = 42

    @field_validator("cutoff", "cutoffs", mode="before")
    @classmethod
    def _epochs_as_text(cls, value: Any) -> Any:
        """Epoch seconds may come as JSON numbers; they are kept as text like the ISO dates."""
        if isinstance(value, list):
            return [cls._epochs_as_text(v) for v in value]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return str(int(value)) if is_number and math.isfinite(value) else value


class NextActionParams(BehaviourParams):
    event_type: str = Field(..., min_length=1, max_length=64, description="the action to predict, e.g. purchase")


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


def behaviour_recipes() -> list[Any]:
    return [ChurnRecipe(), NextActionRecipe()]


