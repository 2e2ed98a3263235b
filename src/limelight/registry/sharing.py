"""Sharing one private model with another org, without making it public.

``invoke`` lets the grantee call the model through the inference API; ``read`` also shows it the
card and versions, finds it in the grantee's marketplace search and lets it fork the model. The
owner org's maintainers grant and revoke; the grantee sees the models shared with it. Whatever a
share does not grant stays exactly as absent as any other org's private model (404).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import ModelShare
from limelight.errors import InvalidShare, NotFound
from limelight.orgs import repository as orgs
from limelight.registry import repository
from limelight.registry.service import own_model
from limelight.schemas.registry import ShareAccess, ShareRead, ShareSet


def _read(row: ModelShare, model_ref: str, grantee: str) -> ShareRead:
    return ShareRead(model=model_ref, org=grantee, access=ShareAccess(row.access), created_by=row.created_by,
                     created_at=row.created_at)


def set_share(session: Session, principal: Principal, org: str, name: str, grantee: str, body: ShareSet) -> ShareRead:
    """Grants (or changes) ``grantee``'s access to the model; setting the same access again changes nothing."""
    model = own_model(session, principal, org, name, Permission.org_maintain)
    if grantee == org:
        raise InvalidShare(f"{org}/{name} belongs to {org!r}: share it with another org.", details={"org": grantee})
    target = orgs.org_by_name(session, grantee)
    if target is None:
        raise NotFound(f"Organization {grantee!r} not found: check the name of the org to share with.",
                       details={"org": grantee})
    row = repository.share(session, model.id, target.id)
    if row is not None and row.access == body.access.value:
        return _read(row, f"{org}/{name}", grantee)
    if row is None:
        row = ModelShare(model_id=model.id, org_id=target.id, access=body.access.value, created_by=principal.username)
        session.add(row)
    else:
        row.access = body.access.value
    session.flush()
    audit.record(session, principal, "model.share", "model", f"{org}/{name}", {"org": grantee, "access": body.access.value})
    return _read(row, f"{org}/{name}", grantee)


def remove_share(session: Session, principal: Principal, org: str, name: str, grantee: str) -> None:
    model = own_model(session, principal, org, name, Permission.org_maintain)
    target = orgs.org_by_name(session, grantee)
    row = repository.share(session, model.id, target.id) if target is not None else None
    if row is None:
        raise NotFound(f"{org}/{name} is not shared with {grantee!r}.", details={"org": grantee})
    session.delete(row)
    audit.record(session, principal, "model.unshare", "model", f"{org}/{name}", {"org": grantee})


def list_shares(session: Session, principal: Principal, org: str, name: str) -> list[ShareRead]:
    """The orgs a model of the caller's org is shared with."""
    model = own_model(session, principal, org, name, Permission.org_read)
    return [_read(row, f"{org}/{name}", grantee) for row, grantee in repository.shares_of_model(session, model.id)]


def shared_with(session: Session, principal: Principal, org: str) -> list[ShareRead]:
    """The models other orgs shared with the caller's org."""
    authorize(principal, Permission.org_read, org)
    return [_read(row, f"{owner}/{model.name}", org)
            for row, model, owner in repository.shared_with_org(session, principal.org_id)]
