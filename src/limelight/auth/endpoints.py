"""HTTP routes of sign-in and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from limelight.auth import service
from limelight.schemas.common import ErrorBody, Page
from limelight.schemas.tenancy import KeyCreate, KeyCreated, KeyRead, LoginRequest, LoginResponse, Whoami
from limelight.server.deps import Authenticated, Public, SessionDep, StateDep
from limelight.server.errors import request_id_of

router = APIRouter(prefix="/api/v1", tags=["auth"], responses={401: {"model": ErrorBody}})


@router.post("/auth/login", response_model=LoginResponse, dependencies=[Public],
             responses={429: {"model": ErrorBody, "description": "too many failed sign-ins (Retry-After)"}})
def login(body: LoginRequest, request: Request, response: Response, state: StateDep) -> LoginResponse:
    max_age = state.settings.server.session_max_age_s
    assert state.login_throttle is not None  # built by the lifespan
    cookie, ui, org = service.sign_in(
        state.db, state.login_throttle, body.username, body.password.get_secret_value(), body.org,
        max_age_s=max_age, client_addr=request.client.host if request.client else None, request_id=request_id_of(request))
    secure = state.settings.server.cookie_secure
    response.set_cookie(
        service.SESSION_COOKIE, cookie, max_age=max_age, httponly=True, samesite="strict", path="/",
        secure=request.url.scheme == "https" if secure is None else secure,
    )
    return LoginResponse(username=body.username, org=org, csrf_token=ui.csrf_token)


@router.post("/auth/logout", status_code=204)
def logout(principal: Authenticated, request: Request, session: SessionDep) -> Response:
    service.logout(session, request.cookies.get(service.SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(service.SESSION_COOKIE, path="/")
    return response


@router.get("/whoami", response_model=Whoami)
def whoami(principal: Authenticated) -> Whoami:
    return Whoami(username=principal.username, org=principal.org_name, role=principal.role,
                  scopes=sorted(principal.scopes), is_admin=principal.is_admin)


@router.post("/keys", response_model=KeyCreated, status_code=201,
             responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody, "description": "no such org"}})
def create_key(body: KeyCreate, principal: Authenticated, session: SessionDep) -> KeyCreated:
    return service.create_key(session, principal, body)


@router.get("/keys", response_model=Page[KeyRead])
def list_keys(principal: Authenticated, session: SessionDep) -> Page[KeyRead]:
    return Page(items=service.list_keys(session, principal))


@router.delete("/keys/{key_id}", response_model=KeyRead, responses={404: {"model": ErrorBody}})
def revoke_key(key_id: str, principal: Authenticated, session: SessionDep, state: StateDep) -> KeyRead:
    return service.revoke_key(session, principal, key_id, state.key_cache)
