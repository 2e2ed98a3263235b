"""Organizations, users and memberships: who belongs where, with which role."""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.passwords import hash_password
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import Membership, Org, User
from limelight.errors import AlreadyExists, Forbidden, NotFound
from limelight.orgs import repository
from limelight.schemas.tenancy import MemberAdd, MemberRead, OrgCreate, OrgRead, Role, UserCreate, UserRead


def create_org(session: Session, principal: Principal | None, body: OrgCreate, *, owner: User | None = None) -> Org:
    """System admins create orgs; the creator (or ``owner``) becomes its owner."""
    if principal is not None:
        authorize(principal, Permission.system_admin)
    if repository.org_by_name(session, body.name) is not None:
        raise AlreadyExists(f"Organization {body.name!r} already exists.")
    org = Org(name=body.name, display_name=body.display_name or body.name)
    session.add(org)
    session.flush()
    owner_id = owner.id if owner else (principal.user_id if principal else None)
    if owner_id:
        session.add(Membership(org_id=org.id, user_id=owner_id, role=Role.owner.value))
    audit.record(session, principal, "org.create", "org", org.name, {"display_name": org.display_name},
                 org_id=org.id, actor=None if principal else "system:init")
    session.flush()
    return org


def list_orgs(session: Session, principal: Principal) -> list[OrgRead]:
    return [
        OrgRead(id=o.id, name=o.name, display_name=o.display_name, created_at=o.created_at, role=Role(role))
        for o, role in repository.orgs_of_user(session, principal.user_id)
    ]


def create_user(session: Session, principal: Principal | None, body: UserCreate, *,
                actor: str = "system:init", org_id: str | None = None) -> User:
    """A system admin's ``principal`` creates accounts; without one, ``actor`` says who did (the first
    run's init, or an invitation redeemed by someone signing up), audited under ``org_id``."""
    if principal is not None:
        authorize(principal, Permission.system_admin)
    if repository.user_by_name(session, body.username) is not None:
        raise AlreadyExists(f"User {body.username!r} already exists: choose another username, or sign in "
                            "if it is yours.", details={"field": "username"})
    user = User(username=body.username, password_hash=hash_password(body.password.get_secret_value()),
                is_admin=body.is_admin)
    session.add(user)
    session.flush()
    audit.record(session, principal, "user.create", "user", user.username, {"is_admin": user.is_admin},
                 actor=None if principal else actor, org_id=None if principal else org_id)
    return user


def user_read(user: User) -> UserRead:
    return UserRead(id=user.id, username=user.username, is_admin=user.is_admin, created_at=user.created_at)


def add_member(session: Session, principal: Principal, org_name: str, body: MemberAdd) -> MemberRead:
    authorize(principal, Permission.org_admin, org_name)
    user = repository.user_by_name(session, body.username)
    if user is None:
        raise NotFound(f"User {body.username!r} not found.")
    existing = repository.membership(session, principal.org_id, user.id)
    if existing is not None:
        if existing.role == body.role.value:
            return MemberRead(username=user.username, role=body.role, org=org_name)
        if existing.role == Role.owner.value:
            _keep_an_owner(session, principal.org_id)
        existing.role = body.role.value
    else:
        session.add(Membership(org_id=principal.org_id, user_id=user.id, role=body.role.value))
    audit.record(session, principal, "member.set", "membership", f"{org_name}/{user.username}",
                 {"role": body.role.value})
    return MemberRead(username=user.username, role=body.role, org=org_name)


def list_members(session: Session, principal: Principal, org_name: str) -> list[MemberRead]:
    authorize(principal, Permission.org_read, org_name)
    return [MemberRead(username=u.username, role=Role(r), org=org_name) for u, r in repository.members(session, principal.org_id)]


def remove_member(session: Session, principal: Principal, org_name: str, username: str) -> None:
    authorize(principal, Permission.org_admin, org_name)
    user = repository.user_by_name(session, username)
    member = repository.membership(session, principal.org_id, user.id) if user else None
    if member is None or user is None:
        raise NotFound(f"{username!r} is not a member of {org_name!r}.")
    if member.role == Role.owner.value:
        _keep_an_owner(session, principal.org_id)
    session.delete(member)
    audit.record(session, principal, "member.remove", "membership", f"{org_name}/{username}")


def leave(session: Session, principal: Principal, org_name: str) -> None:
    """The caller leaves the org it acts in (any role; the last owner must hand over first)."""
    authorize(principal, Permission.authenticated, org_name)
    member = repository.membership(session, principal.org_id, principal.user_id)
    if member is None:
        raise NotFound(f"You are not a member of {org_name!r}.")
    if member.role == Role.owner.value:
        _keep_an_owner(session, principal.org_id)
    session.delete(member)
    audit.record(session, principal, "member.leave", "membership", f"{org_name}/{principal.username}")


def _keep_an_owner(session: Session, org_id: str) -> None:
    """Refuses a change that would take away the org's last owner (nobody could administer it)."""
    if repository.owner_count(session, org_id) <= 1:
        raise Forbidden("An organization keeps at least one owner: make another member owner first.",
                        details={"reason": "last_owner"})
