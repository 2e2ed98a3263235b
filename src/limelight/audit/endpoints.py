"""HTTP routes of the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from limelight.audit import service
from limelight.pagination import Cursor, Limit
from limelight.schemas.audit import AuditEntryRead, AuditVerifyResult
from limelight.schemas.common import ErrorBody, Name, Page
from limelight.server.deps import Maintainer, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"], responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("/orgs/{org}/audit", response_model=Page[AuditEntryRead], responses={404: {"model": ErrorBody}})
def list_audit(
    org: Name, principal: Maintainer, session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[AuditEntryRead]:
    items, next_cursor = service.list_entries(
        session, principal, org, cursor=cursor, limit=limit, action=action, actor=actor, object_type=object_type
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/orgs/{org}/audit/verify", response_model=AuditVerifyResult, responses={404: {"model": ErrorBody}})
def verify_org_audit(org: Name, principal: Maintainer, session: SessionDep) -> AuditVerifyResult:
    """The org's view of the chain: the whole chain is checked, only the org's entries are reported."""
    return service.verify_org(session, principal, org)


@router.get("/audit/verify", response_model=AuditVerifyResult)
def verify_audit(principal: Maintainer, session: SessionDep) -> AuditVerifyResult:
    """A system admin gets the whole chain verified (``scope: global``); anyone else, their org's view."""
    return service.verify_as(session, principal)
