"""All SQL of organizations, users, memberships and invitations."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from limelight.db.base import utcnow
from limelight.db.models import Invitation, Membership, Org, User


def org_by_name(session: Session, name: str) -> Org | None:
    return session.scalars(select(Org).where(Org.name == name)).first()


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def orgs_of_user(session: Session, user_id: str) -> list[tuple[Org, str]]:
    rows = session.execute(
        select(Org, Membership.role).join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id).order_by(Org.name)
    ).all()
    return [(org, role) for org, role in rows]


def members(session: Session, org_id: str) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, Membership.role).join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org_id).order_by(User.username)
    ).all()
    return [(user, role) for user, role in rows]


def membership(session: Session, org_id: str, user_id: str) -> Membership | None:
    return session.scalars(
        select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
    ).first()


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def invitations(session: Session, org_id: str) -> list[Invitation]:
    return list(session.scalars(select(Invitation).where(Invitation.org_id == org_id)
                                .order_by(Invitation.created_at.desc()).limit(500)))


def invitation(session: Session, org_id: str, invitation_id: str) -> Invitation | None:
    return session.scalars(select(Invitation).where(Invitation.org_id == org_id, Invitation.id == invitation_id)).first()


def invitation_by_token_hash(session: Session, token_hash: str) -> tuple[Invitation, Org] | None:
    row = session.execute(select(Invitation, Org).join(Org, Org.id == Invitation.org_id)
                          .where(Invitation.token_hash == token_hash)).first()
    return None if row is None else (row[0], row[1])


def claim_invitation(session: Session, invitation_id: str, username: str) -> bool:
    """Marks a pending invitation used; False when someone else got there first."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(accepted_at=utcnow(), accepted_by=username)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def owner_count(session: Session, org_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Membership)
                              .where(Membership.org_id == org_id, Membership.role == "owner")) or 0)
