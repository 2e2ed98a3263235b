"""Background jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from limelight.schemas.common import Name, ReadSchema, Schema, VersionNumber


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


TERMINAL_STATES = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled})


class JobCreate(Schema):
    recipe: str = Field(..., max_length=64, examples=["classify/lightgbm", "recommend/auto"])
    dataset: Name | None = Field(None, description="dataset name; its latest version unless dataset_version")
    dataset_version: VersionNumber | None = None
    items_dataset: Name | None = Field(None, description="optional catalog (kind items) for recommenders")
    users_dataset: Name | None = Field(None, description="optional end-user profiles (kind users), e.g. for "
                                                         "behaviour prediction")
    params: dict[str, Any] = Field(default_factory=dict)
    model: Name = Field(..., description="model to register the result under (created if missing)")
    max_attempts: int = Field(1, ge=1, le=5)
    promote: Name | None = Field(
        None, description="alias to move to the new version if its gate metric is at least the current one's")


class JobRead(ReadSchema):
    id: str
    org: str
    recipe: str
    params: dict[str, Any]
    model: str | None
    promote: str | None = None
    dataset_version_id: str | None
    state: JobState
    progress: float
    message: str
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any]
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobLogRead(ReadSchema):
    seq: int
    ts: datetime
    level: str
    message: str


class RecipeRead(ReadSchema):
    name: str
    task: str
    dataset_kind: str
    description: str
    params_schema: dict[str, Any]
    consumes: Literal["dataset", "model"] = Field(
        "dataset", description="what a job reads: a dataset (training), or a version of its model (batch scoring)")
    produces: Literal["model", "dataset"] = Field(
        "model", description="what a job registers: a model version, or a dataset version of kind dataset_kind")
