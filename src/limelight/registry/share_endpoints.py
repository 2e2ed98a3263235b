"""HTTP routes of model shares: grant, list and revoke another org's access to a private model."""

from __future__ import annotations

from fastapi import APIRouter, Response

from limelight.registry import sharing
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.registry import ShareRead, ShareSet
from limelight.server.deps import Maintainer, Reader, SessionDep

router = APIRouter(prefix="/api/v1/orgs/{org}", tags=["models"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.put("/models/{name}/shares/{grantee}", response_model=ShareRead, responses={400: {"model": ErrorBody}})
def set_share(org: Name, name: Name, grantee: Name, body: ShareSet, principal: Maintainer,
              session: SessionDep) -> ShareRead:
    """Share a private model with another org: ``invoke`` (call it) or ``read`` (also card, versions, fork)."""
    return sharing.set_share(session, principal, org, name, grantee, body)


@router.get("/models/{name}/shares", response_model=Page[ShareRead])
def list_shares(org: Name, name: Name, principal: Reader, session: SessionDep) -> Page[ShareRead]:
    return Page(items=sharing.list_shares(session, principal, org, name))


@router.delete("/models/{name}/shares/{grantee}", status_code=204)
def remove_share(org: Name, name: Name, grantee: Name, principal: Maintainer, session: SessionDep) -> Response:
    sharing.remove_share(session, principal, org, name, grantee)
    return Response(status_code=204)


@router.get("/shared-models", response_model=Page[ShareRead])
def shared_with(org: Name, principal: Reader, session: SessionDep) -> Page[ShareRead]:
    """The models other orgs shared with this org, and the access each share grants."""
    return Page(items=sharing.shared_with(session, principal, org))
