"""Work done later on someone's behalf (a training job, a scheduled retraining) acts as that person.

The principal is rebuilt from the database each time, with the person's *current* role, so a member
removed from the org since the work was queued no longer acts in it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.auth import repository
from limelight.auth.principal import Principal
from limelight.db.models import Org
from limelight.errors import LimelightError
from limelight.schemas.tenancy import Role, Scope


def acting_for(session: Session, org_id: str, username: str, request_id: str) -> Principal:
    """``username`` in the org ``org_id`` as they are now; fails if they are no longer a member."""
    user = repository.user_by_name(session, username)
    org = session.get(Org, org_id)
    member = repository.membership(session, user.id, org_id) if user else None
    if user is None or org is None or member is None:
        raise LimelightError("The submitter is no longer a member of the organization.")
    return Principal(user_id=user.id, username=user.username, org_id=org.id, org_name=org.name,
                     role=Role(member.role), scopes=frozenset(Scope), is_admin=user.is_admin,
                     request_id=request_id)
