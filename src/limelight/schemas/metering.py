"""Usage reports of an org (``GET /api/v1/orgs/{org}/usage``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from limelight.schemas.common import ReadSchema


class PeriodUsage(ReadSchema):
    start: datetime = Field(..., description="start of the UTC day or hour")
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    compute_seconds: float = Field(0.0, description="wall time of the jobs that ended in this period")
    jobs: int = 0


class ModelUsage(ReadSchema):
    model: str
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0


class StorageUsage(ReadSchema):
    artifact_bytes: int = Field(..., description="model files the org's versions reference, each blob once")
    dataset_bytes: int = Field(..., description="dataset versions' files, each blob once")


class UsageReport(ReadSchema):
    org: str
    granularity: str
    start: datetime
    end: datetime
    periods: list[PeriodUsage]
    models: list[ModelUsage] = Field(..., description="inference totals over the window, busiest first")
    storage: StorageUsage = Field(..., description="what the org stores now")
    inference_kept_days: int = Field(..., description="how far back hourly inference counts reach "
                                                      "(monitoring.hour_retention_days)")
