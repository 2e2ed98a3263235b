"""The organization page: members and their roles, invitations, models shared with the org, leaving;
and the join page an invitation link opens."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import SecretStr, ValidationError

from limelight.auth import service as auth_service
from limelight.errors import LimelightError
from limelight.orgs import invitations
from limelight.orgs import service as orgs_service
from limelight.registry import sharing
from limelight.schemas.common import Name
from limelight.schemas.tenancy import InvitationCreate, InvitationCreated, InvitationRegister, MemberAdd, Role
from limelight.server.deps import Public, SessionDep, StateDep
from limelight.ui.access import PageRoute, new_login_token
from limelight.ui.rendering import render
from limelight.ui.viewer import FormAdmin, FormSignedIn, ReaderPage, SignedInPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Query(min_length=16, max_length=128)]


@router.get("/members")
def members_page(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    return _members(request, viewer, session, created=None)


def _members(request: Request, viewer: Viewer, session: SessionDep, created: InvitationCreated | None,
             status_code: int = 200) -> Response:
    admin = viewer.can("org:admin")
    context = {
        "viewer": viewer, "admin": admin, "roles": [r.value for r in Role], "created": created,
        "members": orgs_service.list_members(session, viewer.principal, viewer.org),
        "invitations": invitations.list_for_org(session, viewer.principal, viewer.org) if admin else [],
        "shared": sharing.shared_with(session, viewer.principal, viewer.org),
        "join_link": str(request.base_url).rstrip("/") + created.accept_url if created else "",
    }
    return render(request, "members.html", context, status_code=status_code)


@router.post("/members/invite")
def invite(request: Request, viewer: FormAdmin, session: SessionDep, role: Annotated[Role, Form()],
           expires_in_hours: Annotated[int, Form(ge=1, le=720)] = 168,
           email: Annotated[str, Form(max_length=254)] = "") -> Response:
    body = InvitationCreate(role=role, email=email or None, expires_in_hours=expires_in_hours)
    created = invitations.create(session, viewer.principal, viewer.org, body)
    return _members(request, viewer, session, created=created, status_code=201)


@router.post("/members/{username}/role")
def change_role(username: Annotated[Name, Path()], viewer: FormAdmin, session: SessionDep, state: StateDep,
                role: Annotated[Role, Form()]) -> Response:
    orgs_service.add_member(session, viewer.principal, viewer.org, MemberAdd(username=username, role=role))
    state.key_cache.drop_member(viewer.principal.org_id, username)
    return RedirectResponse("/members?notice=role-changed", status_code=303)


@router.post("/members/{username}/remove")
def remove(username: Annotated[Name, Path()], viewer: FormAdmin, session: SessionDep, state: StateDep) -> Response:
    orgs_service.remove_member(session, viewer.principal, viewer.org, username)
    state.key_cache.drop_member(viewer.principal.org_id, username)
    return RedirectResponse("/members?notice=member-removed", status_code=303)


@router.post("/members/invitations/{invitation_id}/revoke")
def revoke(invitation_id: Annotated[Name, Path()], viewer: FormAdmin, session: SessionDep) -> Response:
    invitations.revoke(session, viewer.principal, viewer.org, invitation_id)
    return RedirectResponse("/members?notice=invitation-revoked", status_code=303)


@router.post("/members/leave")
def leave(request: Request, viewer: FormSignedIn, session: SessionDep, state: StateDep) -> Response:
    orgs_service.leave(session, viewer.principal, viewer.org)
    state.key_cache.drop_member(viewer.principal.org_id, viewer.username)
    others = [o.name for o in viewer.orgs if o.name != viewer.org]
    cookie = request.cookies.get(auth_service.SESSION_COOKIE)
    if others and cookie and viewer.principal.via_session:
        auth_service.switch_org(session, cookie, others[0])
        return RedirectResponse("/?notice=org-left", status_code=303)
    auth_service.logout(session, cookie)  # a member of no org has nothing left to see
    response = RedirectResponse("/login?notice=org-left", status_code=303)
    response.delete_cookie(auth_service.SESSION_COOKIE, path="/")
    return response


@router.get("/join")
def join_page(request: Request, viewer: SignedInPage, session: SessionDep, token: Token) -> Response:
    row, org = invitations.inspect(session, token)
    return render(request, "join.html", {"viewer": viewer, "token": token, "org": org.name, "role": row.role,
                                         "status": invitations.status_of(row).value,
                                         "expires_at": row.expires_at, "invited_by": row.created_by})


@router.post("/join")
def join(request: Request, viewer: FormSignedIn, session: SessionDep,
         token: Annotated[str, Form(min_length=16, max_length=128)]) -> Response:
    joined = invitations.accept(session, viewer.principal, token)
    cookie = request.cookies.get(auth_service.SESSION_COOKIE)
    if cookie and viewer.principal.via_session:
        auth_service.switch_org(session, cookie, joined.org)
    return RedirectResponse("/members?notice=joined", status_code=303)


# ---- signing up by an invitation (no account yet: the token is the credential) -------------------

SIGNUP_CSRF_COOKIE = "limelight_signup_csrf"
SIGNUP_PATH = "/join/new"


@router.get(SIGNUP_PATH, dependencies=[Public])
def signup_page(request: Request, session: SessionDep, token: Token) -> Response:
    return _signup_form(request, session, token)


def _signup_form(request: Request, session: SessionDep, token: str, *, error: str | None = None,
                 username: str = "", status_code: int = 200) -> Response:
    row, org = invitations.inspect(session, token)
    # a double-submit token (cookie + hidden field), as on the sign-in form: no other site can post it
    csrf = new_login_token()
    response = render(request, "join_new.html", {
        "viewer": None, "token": token, "org": org.name, "role": row.role, "invited_by": row.created_by,
        "status": invitations.status_of(row).value, "expires_at": row.expires_at, "csrf_token": csrf,
        "error": error, "username": username}, status_code=status_code)
    response.set_cookie(SIGNUP_CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="strict", path=SIGNUP_PATH,
                        secure=request.url.scheme == "https")
    return response


@router.post(SIGNUP_PATH, dependencies=[Public])
def signup(request: Request, state: StateDep, session: SessionDep,
           token: Annotated[str, Form(min_length=16, max_length=128)],
           username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=256)],
           password_again: Annotated[str, Form(max_length=256)],
           csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    """Creates the account and the membership (their own transaction, committed before signing in),
    then signs the new member in to the inviting org."""
    def again(message: str, status_code: int) -> Response:
        return _signup_form(request, session, token, error=message, username=username, status_code=status_code)

    cookie_token = request.cookies.get(SIGNUP_CSRF_COOKIE, "")
    if not csrf_token or not hmac.compare_digest(cookie_token.encode(), csrf_token.encode()):
        return again("The form expired; please try again.", 403)
    if password != password_again:
        return again("The two passwords differ.", 422)
    client_addr = request.client.host if request.client else None
    request_id = getattr(request.state, "request_id", None)
    try:
        body = InvitationRegister(token=token, username=username, password=SecretStr(password))
        with state.db.transaction() as own:
            joined = invitations.register(own, body, client_addr=client_addr, request_id=request_id)
    except ValidationError as exc:
        problem = exc.errors()[0]
        return again(f"{problem['loc'][-1]}: {problem['msg']}", 422)
    except LimelightError as exc:
        return again(exc.message, exc.status)
    assert state.login_throttle is not None  # built by the lifespan
    cookie, _, _ = auth_service.sign_in(state.db, state.login_throttle, username, password, joined.org,
                                        max_age_s=state.settings.server.session_max_age_s,
                                        client_addr=client_addr, request_id=request_id)
    response = RedirectResponse("/?notice=joined", status_code=303)
    configured = state.settings.server.cookie_secure
    response.set_cookie(auth_service.SESSION_COOKIE, cookie, max_age=state.settings.server.session_max_age_s,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https" if configured is None else configured)
    response.delete_cookie(SIGNUP_CSRF_COOKIE, path=SIGNUP_PATH)
    return response
