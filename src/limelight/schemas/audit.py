"""Audit entries and chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from limelight.schemas.common import ReadSchema


class AuditEntryRead(ReadSchema):
    seq: int
    org: str | None
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    client_addr: str | None
    request_id: str | None
    created_at: datetime
    hash: str


class AuditVerifyResult(ReadSchema):
    ok: bool
    scope: Literal["global", "org"] = Field("global", description="global: every org's entries (system "
                                                                  "admins); org: one org's view of the chain")
    org: str | None = None
    entries_checked: int = Field(description="entries verified; in the org scope, only that org's")
    first_bad_seq: int | None = None
    reason: str | None = None
