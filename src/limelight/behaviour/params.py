"""The parameters of the behaviour recipes (``predict-behaviour/churn`` and ``/next-action``)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from limelight.recipes.base import RecipeParams
from limelight.schemas.common import Name, VersionNumber


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


class ScoreUsersParams(RecipeParams):
    output_dataset: Name = Field(..., description="the users dataset the ranked list is stored as (a new version if "
                                            "it exists)")
    version: VersionNumber | None = Field(None, description="the model version to score with; default: the alias, "
                                                        "else production, else the latest (fixed at submission)")
    alias: Name | None = None
    limit: int | None = Field(None, ge=1, le=10_000_000, description="keep only the most likely users")
    as_of: str | None = Field(None, max_length=40, description="the moment to predict from, an ISO date or epoch "
                                                                "seconds; default: as :predict chooses")
    min_probability: float = Field(0.0, ge=0, le=1, description="keep only users at least this likely")

    @field_validator("as_of", mode="before")
    @classmethod
    def _epoch_as_text(cls, value: Any) -> Any:
        return BehaviourParams._epochs_as_text(value)

    @field_validator("as_of")
    @classmethod
    def _a_moment(cls, value: str | None) -> str | None:
        if value is not None:
            from limelight.behaviour.snapshots import parse_moment

            try:
                parse_moment(value, "as_of")
            except Exception as exc:  # noqa: BLE001 - re-raised as the params' own validation error
                raise ValueError(getattr(exc, "message", str(exc))) from None
        return value
