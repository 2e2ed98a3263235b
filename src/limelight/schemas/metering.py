"""Usage reports of an org (``GET /api/v1/orgs/{org}/usage``) and its quotas (``/api/v1/orgs/{org}/quotas``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from limelight.schemas.common import ReadSchema, Schema

MAX_QUOTA = 10**15


class PeriodUsage(ReadSchema):
    start: datetime = Field(..., description="start of the UTC day or hour")
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    prompt_tokens: int = Field(0, description="tokens of the prompts the org's generation calls read")
    completion_tokens: int = Field(0, description="tokens the org's generation calls generated")
    compute_seconds: float = Field(0.0, description="wall time of the jobs that ended in this period")
    jobs: int = 0


class ModelUsage(ReadSchema):
    model: str = Field(..., description="org/name of the model called: the org's own, or another org's "
                                        "(shared with it, or public)")
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


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
                                                      "(metering.retention_days)")


class QuotaLimits(Schema):
    """An org's monthly quotas (``PUT /api/v1/orgs/{org}/quotas``, system admins); null: unlimited."""

    # bounds below 2**53, so a JSON double keeps them exact
    requests_per_month: int | None = Field(None, ge=0, le=MAX_QUOTA, description="inference requests per UTC "
                                                                               "calendar month (429 past it)")
    compute_seconds_per_month: float | None = Field(None, ge=0, le=MAX_QUOTA, description="wall seconds of the org's "
                                                                                        "jobs per month (403 on submit)")
    storage_bytes: int | None = Field(None, ge=0, le=MAX_QUOTA, description="model and dataset files stored, each "
                                                                          "blob once (403 on upload)")

    @field_validator("*", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # JSON true/false is not an amount (pydantic would read it as 1/0)
            raise ValueError("must be a number or null")
        return value


class QuotaAmounts(ReadSchema):
    """One number per quota (a limit, what is used, or what remains); null: unlimited."""

    requests_per_month: int | None = None
    compute_seconds_per_month: float | None = None
    storage_bytes: int | None = None


class OrgQuotas(ReadSchema):
    org: str
    limits: QuotaAmounts = Field(..., description="null: unlimited")
    used: QuotaAmounts = Field(..., description="this UTC month's requests (counted every few seconds) and "
                                                "compute seconds, and the bytes stored now")
    remaining: QuotaAmounts = Field(..., description="limit minus used, at least 0; null: unlimited")
    period_start: datetime = Field(..., description="start of this UTC calendar month")
    resets_at: datetime = Field(..., description="start of the next UTC month, when the monthly quotas reset")
    updated_at: datetime | None = None
    updated_by: str | None = None
