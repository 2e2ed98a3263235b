"""Invitations: an org's owner invites someone with a role; whoever holds the token joins once.

The token is the credential, so it is shown once at creation (as a token and as a console link)
and only its SHA-256 is stored. Redeeming it is one conditional UPDATE, so two people racing with
the same token cannot both join. Expired, revoked and used tokens each say so with their own code.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.base import utcnow
from limelight.db.models import Invitation, Membership, Org
from limelight.errors import AlreadyMember, InvitationExpired, InvitationRevoked, InvitationUsed, NotFound
from limelight.orgs import repository
from limelight.schemas.tenancy import (
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    InvitationRegister,
    InvitationStatus,
    Role,
    UserCreate,
)

JOIN_PATH = "/join"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_of(row: Invitation) -> InvitationStatus:
    if row.revoked_at is not None:
        return InvitationStatus.revoked
    if row.accepted_at is not None:
        return InvitationStatus.accepted
    return InvitationStatus.expired if row.expires_at <= utcnow() else InvitationStatus.pending


def _read(row: Invitation, org: str) -> InvitationRead:
    return InvitationRead(id=row.id, org=org, role=Role(row.role), email=row.email, status=status_of(row),
                          created_by=row.created_by, created_at=row.created_at, expires_at=row.expires_at,
                          accepted_by=row.accepted_by, accepted_at=row.accepted_at)


def create(session: Session, principal: Principal, org: str, body: InvitationCreate) -> InvitationCreated:
    authorize(principal, Permission.org_admin, org)
    token = secrets.token_urlsafe(32)
    row = Invitation(org_id=principal.org_id, role=body.role.value, email=body.email, token_hash=_hash(token),
                     created_by=principal.username, expires_at=utcnow() + timedelta(hours=body.expires_in_hours))
    session.add(row)
    session.flush()
    audit.record(session, principal, "invitation.create", "invitation", row.id,
                 {"role": row.role, "email": row.email, "expires_at": row.expires_at.isoformat()})
    return InvitationCreated(**_read(row, org).model_dump(), token=token, accept_url=f"{JOIN_PATH}?token={token}")


def list_for_org(session: Session, principal: Principal, org: str) -> list[InvitationRead]:
    authorize(principal, Permission.org_admin, org)
    return [_read(row, org) for row in repository.invitations(session, principal.org_id)]


def revoke(session: Session, principal: Principal, org: str, invitation_id: str) -> None:
    authorize(principal, Permission.org_admin, org)
    row = repository.invitation(session, principal.org_id, invitation_id)
    if row is None:
        raise NotFound(f"Invitation {invitation_id!r} of {org!r} not found.")
    if row.accepted_at is not None:
        raise InvitationUsed(f"Invitation {invitation_id!r} was already accepted by {row.accepted_by!r}: "
                             f"remove that member instead.", details={"accepted_by": row.accepted_by})
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, principal, "invitation.revoke", "invitation", row.id)


def inspect(session: Session, token: str) -> tuple[Invitation, Org]:
    """The invitation a token names, whatever its status (the join page shows it before accepting)."""
    found = repository.invitation_by_token_hash(session, _hash(token))
    if found is None:
        raise NotFound("This invitation does not exist: check that the link was copied whole, or ask for a new one.")
    return found


def _pending(session: Session, token: str) -> tuple[Invitation, Org]:
    """The invitation a token names, if it can still admit someone; else the error that says why not."""
    row, org = inspect(session, token)
    status = status_of(row)
    if status is InvitationStatus.revoked:
        raise InvitationRevoked(f"This invitation to {org.name!r} was withdrawn: ask an owner for a new one.")
    if status is InvitationStatus.accepted:
        raise InvitationUsed(f"This invitation to {org.name!r} was already used: each invitation admits one person.")
    if status is InvitationStatus.expired:
        raise InvitationExpired(f"This invitation to {org.name!r} expired at {row.expires_at.isoformat()}: "
                                "ask an owner for a new one.", details={"expired_at": row.expires_at.isoformat()})
    return row, org


def _join(session: Session, row: Invitation, org: Org, user_id: str, username: str) -> None:
    """Redeem the invitation (one conditional UPDATE: of two racing, one joins) and add the member."""
    if not repository.claim_invitation(session, row.id, username):
        raise InvitationUsed(f"This invitation to {org.name!r} was already used: each invitation admits one person.")
    session.add(Membership(org_id=org.id, user_id=user_id, role=row.role))
    session.flush()
    session.refresh(row)


def accept(session: Session, principal: Principal, token: str) -> InvitationRead:
    """Makes the calling user a member of the inviting org with the invitation's role."""
    row, org = _pending(session, token)
    member = repository.membership(session, org.id, principal.user_id)
    if member is not None:
        raise AlreadyMember(f"You are already a member of {org.name!r} (as {member.role}); the invitation stays "
                            "unused for someone else.", details={"role": member.role})
    _join(session, row, org, principal.user_id, principal.username)
    audit.record(session, principal, "invitation.accept", "invitation", row.id, {"role": row.role},
                 org_id=org.id)
    return _read(row, org.name)


def register(session: Session, body: InvitationRegister, *, client_addr: str | None = None,
             request_id: str | None = None) -> InvitationRead:
    """Self sign-up: someone without an account redeems an invitation by choosing a username and a
    password; the account and the membership are made together or not at all (the caller's
    transaction), so a used or expired token leaves no account behind."""
    from limelight.orgs.service import create_user

    row, org = _pending(session, body.token)
    user = create_user(session, None, UserCreate(username=body.username, password=body.password),
                       actor=f"invitation:{row.id}", org_id=org.id)
    _join(session, row, org, user.id, user.username)
    audit.record(session, None, "invitation.accept", "invitation", row.id, {"role": row.role, "new_user": True},
                 org_id=org.id, actor=user.username, client_addr=client_addr, request_id=request_id)
    return _read(row, org.name)
