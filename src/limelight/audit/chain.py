"""The hash of one audit entry: SHA-256 over the previous hash and a canonical JSON of the entry."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode()).hexdigest()


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def hashed_fields(
    *, seq: int, org_id: str | None, actor: str, action: str, object_type: str, object_id: str,
    details: dict[str, Any], client_addr: str | None, request_id: str | None, created_at: datetime,
) -> dict[str, Any]:
    return {
        "seq": seq, "org_id": org_id, "actor": actor, "action": action, "object_type": object_type,
        "object_id": object_id, "details": details, "client_addr": client_addr, "request_id": request_id,
        # microsecond precision survives both SQLite and PostgreSQL round trips
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
    }
