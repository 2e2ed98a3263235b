"""All SQL of organizations, users and memberships."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limelight.db.models import Membership, Org, User


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
