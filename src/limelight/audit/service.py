"""Recording and verifying the audit log.

``record`` runs inside the caller's transaction, so an entry exists exactly when its change does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from limelight.audit import repository
from limelight.audit.chain import entry_hash, hashed_fields
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.base import utcnow
from limelight.db.models import AuditEntry
from limelight.schemas.audit import AuditEntryRead, AuditVerifyResult


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
    *,
    org_id: str | None = None,
    actor: str | None = None,
    client_addr: str | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    head = repository.lock_head(session)
    entry = AuditEntry(
        seq=head.last_seq + 1,
        org_id=org_id if org_id is not None else (principal.org_id if principal else None),
        actor=actor or (principal.actor if principal else "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
        client_addr=principal.client_addr if principal else client_addr,
        request_id=principal.request_id if principal else request_id,
        created_at=utcnow(),
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(head.last_hash, _fields_of(entry))
    session.add(entry)
    head.last_seq, head.last_hash = entry.seq, entry.hash
    session.flush()
    return entry


def verify_as(session: Session, principal: Principal) -> AuditVerifyResult:
    """A system admin verifies the whole chain; anyone else (a maintainer) their org's view of it."""
    if principal.can(Permission.system_admin):
        return verify(session)
    return verify_org(session, principal, principal.org_name)


def verify(session: Session) -> AuditVerifyResult:
    """Walk the whole chain: any edited, inserted or deleted entry breaks it."""
    prev_hash, expected_seq, checked = "0" * 64, 1, 0
    for entry in repository.iter_entries(session):
        reason = _check(entry, prev_hash, expected_seq)
        if reason:
            bad_seq = min(entry.seq, expected_seq)  # a gap points at the first missing entry
            return AuditVerifyResult(ok=False, entries_checked=checked, first_bad_seq=bad_seq, reason=reason)
        prev_hash, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
    head = repository.head(session)
    if head.last_seq != checked or head.last_hash != prev_hash:
        return AuditVerifyResult(
            ok=False, entries_checked=checked, first_bad_seq=checked + 1,
            reason="entries after the last one found were deleted",
        )
    return AuditVerifyResult(ok=True, entries_checked=checked)


def verify_org(session: Session, principal: Principal, org: str) -> AuditVerifyResult:
    """One org's view of the one chain that links every org's entries.

    The chain is a single sequence (one head, each entry hashing its predecessor, whatever its
    org), so deleting any entry is detectable; a chain per org could not show that an entry of
    one org was moved or dropped between another org's. So the whole chain is walked here too,
    but only the org's own entries are counted and named: a break at one of them is reported with
    its ``seq`` and reason; a break anywhere else (another org's entry, a missing entry whose org
    is unknowable, a cut tail) only says that the chain is broken outside this org, without
    position or content, and a system admin's global verification locates it.
    """
    authorize(principal, Permission.org_maintain, org)
    org_id = principal.org_id
    prev_hash, expected_seq, mine = "0" * 64, 1, 0
    for entry in repository.iter_entries(session):
        reason = _check(entry, prev_hash, expected_seq)
        if reason:
            if entry.org_id == org_id and entry.seq == expected_seq:
                return AuditVerifyResult(ok=False, scope="org", org=org, entries_checked=mine,
                                         first_bad_seq=entry.seq, reason=reason)
            return _broken_elsewhere(org, mine)
        prev_hash, expected_seq = entry.hash, entry.seq + 1
        mine += entry.org_id == org_id
    head = repository.head(session)
    if head.last_seq != expected_seq - 1 or head.last_hash != prev_hash:
        return _broken_elsewhere(org, mine)
    return AuditVerifyResult(ok=True, scope="org", org=org, entries_checked=mine)


def _broken_elsewhere(org: str, checked: int) -> AuditVerifyResult:
    return AuditVerifyResult(ok=False, scope="org", org=org, entries_checked=checked,
                             reason="the chain is broken outside this organization's entries; "
                                    "a system administrator's verification locates the break")


def _check(entry: AuditEntry, prev_hash: str, expected_seq: int) -> str | None:
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if entry.prev_hash != prev_hash:
        return "previous-hash link broken"
    if entry_hash(prev_hash, _fields_of(entry)) != entry.hash:
        return "entry content does not match its hash"
    return None


def _fields_of(entry: AuditEntry) -> dict[str, Any]:
    return hashed_fields(
        seq=entry.seq, org_id=entry.org_id, actor=entry.actor, action=entry.action,
        object_type=entry.object_type, object_id=entry.object_id, details=entry.details,
        client_addr=entry.client_addr, request_id=entry.request_id, created_at=entry.created_at,
    )


def list_entries(
    session: Session, principal: Principal, org: str, *, cursor: str | None, limit: int,
    action: str | None = None, actor: str | None = None, object_type: str | None = None,
) -> tuple[list[AuditEntryRead], str | None]:
    authorize(principal, Permission.org_maintain, org)
    before = int(cursor) if cursor and cursor.isdigit() else None
    rows = repository.page(
        session, org_id=principal.org_id, before_seq=before, limit=limit + 1,
        action=action, actor=actor, object_type=object_type,
    )
    next_cursor = str(rows[limit - 1].seq) if len(rows) > limit else None
    items = [
        AuditEntryRead(
            seq=r.seq, org=org, actor=r.actor, action=r.action, object_type=r.object_type,
            object_id=r.object_id, details=r.details, client_addr=r.client_addr,
            request_id=r.request_id, created_at=r.created_at, hash=r.hash,
        )
        for r in rows[:limit]
    ]
    return items, next_cursor
