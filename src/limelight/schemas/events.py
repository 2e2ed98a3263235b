"""Real-time behaviour events."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from limelight.schemas.common import Name, ReadSchema, Schema


class EventType(StrEnum):
    view = "view"
    play = "play"
    complete = "complete"
    click = "click"
    rate = "rate"
    purchase = "purchase"
    skip = "skip"


class EventIn(Schema):
    event_id: str = Field(..., min_length=1, max_length=128)
    user_id: str = Field(..., min_length=1, max_length=256)
    item_id: str = Field(..., min_length=1, max_length=256)
    type: EventType
    value: float | None = Field(None, description="rating for `rate`, seconds watched, …")
    timestamp: float | None = Field(None, ge=0, description="epoch seconds; server time if absent")
    request_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                                   description="the `request_id` of the recommendation or prediction this event "
                                               "answers: a running experiment attributes it to the variant that "
                                               "served that response")


class EventBatch(Schema):
    events: list[EventIn] = Field(..., min_length=1)
    dataset: Name | None = Field(
        None, description="the interactions dataset these events extend: training on it reads them, and "
                          "only it. Optional when the org has at most one interactions dataset.")


class EventBatchResult(ReadSchema):
    accepted: int = Field(..., description="events stored now")
    duplicates: int = Field(..., description="events whose event_id was already stored (idempotent)")
    dataset: str | None = Field(None, description="the interactions dataset the events were stored for")


class ForgetResult(ReadSchema):
    user_id: str
    events_deleted: int
    dataset_rows_deleted: int
    models_flagged: list[str]
