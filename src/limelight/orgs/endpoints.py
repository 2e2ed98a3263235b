"""HTTP routes of organizations, users and memberships."""

from __future__ import annotations

from fastapi import APIRouter, Response

from limelight.orgs import service
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.schemas.tenancy import MemberAdd, MemberRead, OrgCreate, OrgRead, Role, UserCreate, UserRead
from limelight.server.deps import Authenticated, OrgAdmin, Reader, SessionDep, SystemAdmin

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
def add_member(org: Name, body: MemberAdd, principal: OrgAdmin, session: SessionDep) -> MemberRead:
    return service.add_member(session, principal, org, body)


@router.get("/orgs/{org}/members", response_model=Page[MemberRead], responses={404: {"model": ErrorBody}})
def list_members(org: Name, principal: Reader, session: SessionDep) -> Page[MemberRead]:
    return Page(items=service.list_members(session, principal, org))


@router.delete("/orgs/{org}/members/{username}", status_code=204, responses={404: {"model": ErrorBody}})
def remove_member(org: Name, username: Name, principal: OrgAdmin, session: SessionDep) -> Response:
    service.remove_member(session, principal, org, username)
    return Response(status_code=204)
