"""Types shared by every wire schema: names, pages, the error body."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
ModelRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_-]{0,63}$")]

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class ReadSchema(BaseModel):
    """Responses: tolerate new fields so an older SDK keeps working against a newer server."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)


class Page(ReadSchema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="pass as ?cursor= to get the next page")


class ErrorDetail(ReadSchema):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class ErrorBody(ReadSchema):
    error: ErrorDetail
