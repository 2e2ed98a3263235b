"""Audit entries and chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    entries_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
