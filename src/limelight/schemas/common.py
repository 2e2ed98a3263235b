"""Types shared by every wire schema: names, pages, the error body."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
# Version numbers are 32-bit in the metadata store: a larger one is invalid input, not a database error.
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION)]
ModelRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}/[a-z0-9][a-z0-9_-]{0,63}$")]

T = TypeVar("T")


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and bool in typing.get_args(annotation)


class StrictInput(BaseModel):
    """What every closed input model shares: unknown fields refused, numbers finite, booleans strict.

    Finite: NaN and ±infinity (``1e400`` in JSON) are refused on every float field. Strict
    booleans: only ``true``/``false``, never ``0``, ``1`` or ``"yes"``; subclasses get this
    without spelling ``StrictBool`` on each field.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        loose = [info for info in cls.model_fields.values()
                 if _is_bool(info.annotation) and not any(isinstance(m, Strict) for m in info.metadata)]
        for info in loose:
            info.metadata.append(Strict())
        if loose:
            cls.model_rebuild(force=True, raise_errors=False)


class Schema(StrictInput):
    model_config = ConfigDict(extra="forbid", from_attributes=True, allow_inf_nan=False)


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
