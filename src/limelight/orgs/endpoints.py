"""HTTP routes of organizations, users and memberships."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from limelight.orgs import invitations, service
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.tenancy import (
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    InvitationRegister,
    MemberAdd,
    MemberRead,
    OrgCreate,
    OrgRead,
    Role,
    UserCreate,
    UserRead,
)
from limelight.server.deps import Authenticated, OrgAdmin, Public, Reader, SessionDep, StateDep, SystemAdmin
from limelight.server.errors import request_id_of

router = APIRouter(prefix="/api/v1", tags=["orgs"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.post("/orgs", response_model=OrgRead, status_code=201, responses={409: {"model": ErrorBody}})
def create_org(body: OrgCreate, principal: SystemAdmin, session: SessionDep) -> OrgRead:
    org = service.create_org(session, principal, body)
    return OrgRead(id=org.id, name=org.name, display_name=org.display_name, created_at=org.created_at, role=Role.owner)


@router.get("/orgs", response_model=Page[OrgRead])
def list_orgs(principal: Authenticated, session: SessionDep) -> Page[OrgRead]:
    return Page(items=service.list_orgs(session, principal))


@router.post("/users", response_model=UserRead, status_code=201, responses={409: {"model": ErrorBody}})
def create_user(body: UserCreate, principal: SystemAdmin, session: SessionDep) -> UserRead:
    return service.user_read(service.create_user(session, principal, body))


@router.post("/orgs/{org}/members", response_model=MemberRead, status_code=201, responses={404: {"model": ErrorBody}})
def add_member(org: Name, body: MemberAdd, principal: OrgAdmin, session: SessionDep, state: StateDep) -> MemberRead:
    """Add a user, or change a member's role (their keys follow at once)."""
    member = service.add_member(session, principal, org, body)
    state.key_cache.drop_member(principal.org_id, body.username)
    return member


@router.get("/orgs/{org}/members", response_model=Page[MemberRead], responses={404: {"model": ErrorBody}})
def list_members(org: Name, principal: Reader, session: SessionDep) -> Page[MemberRead]:
    return Page(items=service.list_members(session, principal, org))


@router.delete("/orgs/{org}/members/{username}", status_code=204, responses={404: {"model": ErrorBody}})
def remove_member(org: Name, username: Name, principal: OrgAdmin, session: SessionDep, state: StateDep) -> Response:
    service.remove_member(session, principal, org, username)
    state.key_cache.drop_member(principal.org_id, username)
    return Response(status_code=204)


@router.post("/orgs/{org}/leave", status_code=204, responses={404: {"model": ErrorBody}})
def leave(org: Name, principal: Authenticated, session: SessionDep, state: StateDep) -> Response:
    """Leave the org (the last owner cannot: make someone else owner first)."""
    service.leave(session, principal, org)
    state.key_cache.drop_member(principal.org_id, principal.username)
    return Response(status_code=204)


@router.post("/orgs/{org}/invitations", response_model=InvitationCreated, status_code=201,
             responses={404: {"model": ErrorBody}})
def create_invitation(org: Name, body: InvitationCreate, principal: OrgAdmin, session: SessionDep) -> InvitationCreated:
    """Invite someone with a role; the token (and link) is shown once and admits one person."""
    return invitations.create(session, principal, org, body)


@router.get("/orgs/{org}/invitations", response_model=Page[InvitationRead], responses={404: {"model": ErrorBody}})
def list_invitations(org: Name, principal: OrgAdmin, session: SessionDep) -> Page[InvitationRead]:
    return Page(items=invitations.list_for_org(session, principal, org))


@router.delete("/orgs/{org}/invitations/{invitation_id}", status_code=204,
               responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}})
def revoke_invitation(org: Name, invitation_id: Name, principal: OrgAdmin, session: SessionDep) -> Response:
    invitations.revoke(session, principal, org, invitation_id)
    return Response(status_code=204)


@router.post("/invitations/accept", response_model=InvitationRead,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 410: {"model": ErrorBody}})
def accept_invitation(body: InvitationAccept, principal: Authenticated, session: SessionDep) -> InvitationRead:
    """Join the org that sent the invitation, as the calling user, with the invitation's role."""
    return invitations.accept(session, principal, body.token)


@router.post("/invitations/register", response_model=InvitationRead, status_code=201, dependencies=[Public],
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 410: {"model": ErrorBody}})
def register_by_invitation(body: InvitationRegister, request: Request, session: SessionDep) -> InvitationRead:
    """Sign up by an invitation: no account yet, so the invitation's token is the credential. Creates the
    user with this username and password, a member of the inviting org with the invitation's role;
    then sign in with ``POST /api/v1/auth/login``."""
    return invitations.register(session, body, client_addr=request.client.host if request.client else None,
                                request_id=request_id_of(request))
