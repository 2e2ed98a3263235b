"""All SQL of authentication: keys, sessions, and the joins that build a principal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from limelight.db.models import ApiKey, Membership, Org, UiSession, User


def key_with_context(session: Session, key_id: str) -> tuple[ApiKey, User, Org, Membership | None] | None:
    row = session.execute(
        select(ApiKey, User, Org, Membership)
        .join(User, User.id == ApiKey.user_id)
        .join(Org, Org.id == ApiKey.org_id)
        .outerjoin(Membership, (Membership.user_id == User.id) & (Membership.org_id == Org.id))
        .where(ApiKey.id == key_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def keys_of(session: Session, *, user_id: str | None, org_id: str) -> list[tuple[ApiKey, User]]:
    query = select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.org_id == org_id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return [(k, u) for k, u in session.execute(query.order_by(ApiKey.created_at.desc())).all()]


def touch_key(session: Session, key_id: str, when: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def membership(session: Session, user_id: str, org_id: str) -> Membership | None:
    return session.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    ).first()


def first_org_of(session: Session, user_id: str) -> Org | None:
    return session.scalars(
        select(Org).join(Membership, Membership.org_id == Org.id)
        .where(Membership.user_id == user_id).order_by(Membership.created_at)
    ).first()


def ui_session(session: Session, id_hash: str) -> UiSession | None:
    return session.get(UiSession, id_hash)


def delete_ui_session(session: Session, id_hash: str) -> None:
    session.execute(delete(UiSession).where(UiSession.id_hash == id_hash))
