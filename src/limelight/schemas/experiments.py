"""Online experiments: the split, the per-variant results and the decisions (server, SDK and CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from limelight.schemas.common import Name, ReadSchema, Schema

Metric = Literal["ctr", "completion_rate", "watch_time"]
Action = Literal["wait", "promote", "keep_control", "rollback"]
MAX_VARIANTS = 5


class VariantSpec(Schema):
    name: Name = Field(..., description="shown in results and in every response it serves")
    alias: Name = Field(..., description="the model alias this variant serves (its version is read live)")
    weight: float = Field(..., gt=0, le=1000, description="share of end users, relative to the other variants")


class GuardrailSpec(Schema):
    max_error_rate: float = Field(0.01, ge=0, le=1, description="server errors / requests above this roll "
                                                                 "a treatment back")
    max_p99_ms: float | None = Field(None, gt=0, description="p99 latency above this rolls a treatment back")


class ExperimentCreate(Schema):
    name: Name
    variants: list[VariantSpec] = Field(..., min_length=2, max_length=MAX_VARIANTS,
                                        description="the first is the control")
    metric: Metric = Field("ctr", description="the primary metric the decision tests: click-through rate, "
                                              "completion rate, or mean watch seconds per impression")
    alpha: float = Field(0.05, ge=0.0001, lt=0.5, description="two-sided significance level (split by "
                                                              "Bonferroni over the treatments)")
    min_samples: int | None = Field(None, ge=10, le=100_000_000, description="impressions every variant needs "
                                    "before a decision is taken; default: planned from baseline_rate and "
                                    "min_detectable_lift, else 1000")
    baseline_rate: float | None = Field(None, gt=0, lt=1, description="the control's expected rate of the primary "
                                                                      "metric (e.g. 0.10 CTR), to plan the sample size")
    min_detectable_lift: float | None = Field(None, ge=0.0001, lt=1, description="the smallest absolute lift worth "
                                              "detecting (e.g. 0.02), to plan the sample size")
    power: float = Field(0.8, ge=0.5, le=0.999, description="the chance to detect that lift, to plan the sample size")
    sticky_field: Name = Field("user_id", description="the request field naming the end user (the "
                                                      "Limelight-Routing-Key header wins)")
    guardrails: GuardrailSpec = Field(default_factory=GuardrailSpec)
    auto_decide: bool = Field(False, description="let the workers promote the winner, keep control or roll "
                                                 "back a variant on their own (each decision is audited)")

    @model_validator(mode="after")
    def _unique_names(self) -> ExperimentCreate:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        if (self.baseline_rate is None) != (self.min_detectable_lift is None):
            raise ValueError("give baseline_rate and min_detectable_lift together (or neither)")
        if self.baseline_rate is not None and self.min_detectable_lift is not None:
            if self.metric == "watch_time":
                raise ValueError("a planned sample size needs a rate metric (ctr or completion_rate)")
            if self.baseline_rate + self.min_detectable_lift >= 1:
                raise ValueError("baseline_rate + min_detectable_lift must stay below 1")
        return self


class Plan(ReadSchema):
    """How many impressions per variant detect ``lift`` over ``baseline`` with ``power`` at ``alpha``
    (Bonferroni over the treatments): the same computation the simulator in bench/experiments checks."""

    baseline_rate: float
    min_detectable_lift: float
    power: float
    samples_per_variant: int


class Interval(ReadSchema):
    estimate: float | None
    low: float | None
    high: float | None


class VsControl(ReadSchema):
    difference: float | None
    low: float | None
    high: float | None
    p_value: float
    significant: bool


class VariantResult(ReadSchema):
    name: str
    alias: str
    weight: float
    requests: int = Field(..., description="requests routed to the variant, answered or not")
    impressions: int = Field(..., description="answered requests (status below 400)")
    server_errors: int
    error_rate: float | None
    p99_latency_ms: float | None
    clicks: int = Field(..., description="impressions with at least one click event citing them")
    completions: int = Field(..., description="impressions with at least one complete event")
    ctr: Interval
    completion_rate: Interval
    watch_time_s: Interval = Field(..., description="seconds of play events per impression")
    vs_control: VsControl | None = Field(None, description="the primary metric against the control")


class DecisionRead(ReadSchema):
    action: Action
    variant: str | None
    reason: str
    by: str | None = None
    at: datetime | None = None


class SeriesPoint(ReadSchema):
    start: datetime
    variant: str
    impressions: int
    clicks: int


class ExperimentRead(ReadSchema):
    id: str
    org: str
    model: str
    name: str
    status: Literal["running", "stopped"]
    metric: Metric
    alpha: float
    min_samples: int
    sticky_field: str
    guardrails: GuardrailSpec
    auto_decide: bool
    plan: Plan | None = Field(None, description="the planned sample size, when the lift to detect was given")
    created_at: datetime
    created_by: str
    ended_at: datetime | None
    decision: DecisionRead | None = Field(None, description="the decision that ended it, if one did")
    variants: list[VariantResult] = Field(default_factory=list)
    recommendation: DecisionRead | None = Field(None, description="what the decision rule says now")
    attributed_events: int = 0
    unattributed_events: int = Field(0, description="events of this org since the start citing a request id "
                                                    "no experiment served (unknown, or another org's)")
    series: list[SeriesPoint] = Field(default_factory=list, description="impressions and clicks per hour")


class DecideRequest(Schema):
    dry_run: bool = Field(False, description="only say what the rule decides now")
