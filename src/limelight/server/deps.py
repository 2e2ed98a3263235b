"""Annotated dependencies: the session (the boundary owns the transaction) and the principal.

Every route declares its permission with ``Requires(Permission.x)`` or ``Public``; the route
coverage test fails on a route that declares neither, and at run time an undeclared route is
refused (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from limelight.auth import service as auth_service
from limelight.auth.principal import Permission, Principal
from limelight.schemas.common import MAX_VERSION
from limelight.server.api_limits import MANAGEMENT_PREFIX
from limelight.server.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_state(request: Request) -> AppState:
    return request.app.state.limelight


StateDep = Annotated[AppState, Depends(get_state)]
VersionPath = Annotated[int, Path(ge=1, le=MAX_VERSION, description="a version number")]


def get_session(request: Request, state: StateDep) -> Iterator[Session]:
    with state.db.transaction(write=request.method not in SAFE_METHODS) as session:
        yield session


# scope="function": commit before the response is sent, so a 2xx means the write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class Requires:
    """Authenticates the caller and checks the route's declared permission."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, state: StateDep) -> Principal:
        principal = auth_service.authenticate(state.db, state.key_cache, credentials_of(request))
        if not principal.can(self.permission):
            raise principal.refusal(self.permission)
        limits = state.api_limits
        if limits is not None and request.url.path.startswith(MANAGEMENT_PREFIX):  # inference has its own
            limits.check(principal)
        return principal

    def __repr__(self) -> str:
        return f"Requires({self.permission.value})"


class _PublicMarker:
    permission = Permission.public

    def __call__(self) -> None:
        return None


public = _PublicMarker()
Public = Depends(public)

Authenticated = Annotated[Principal, Depends(Requires(Permission.authenticated))]
Reader = Annotated[Principal, Depends(Requires(Permission.org_read))]
Predictor = Annotated[Principal, Depends(Requires(Permission.org_predict))]
Writer = Annotated[Principal, Depends(Requires(Permission.org_write))]
Maintainer = Annotated[Principal, Depends(Requires(Permission.org_maintain))]
OrgAdmin = Annotated[Principal, Depends(Requires(Permission.org_admin))]
SystemAdmin = Annotated[Principal, Depends(Requires(Permission.system_admin))]


def credentials_of(request: Request) -> auth_service.Credentials:
    """What the request presents to identify its sender (header, cookie, CSRF token), as data."""
    return auth_service.Credentials(
        authorization=request.headers.get("authorization", ""),
        session_cookie=request.cookies.get(auth_service.SESSION_COOKIE),
        csrf_token=request.headers.get(auth_service.CSRF_HEADER, ""),
        unsafe_method=request.method not in ("GET", "HEAD", "OPTIONS"),
        client_addr=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
    )
