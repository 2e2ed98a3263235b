"""Sign-in, sign-out and the organization switcher."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from limelight.auth import service as auth_service
from limelight.errors import Forbidden, LoginThrottled, Unauthenticated
from limelight.server.deps import Public, SessionDep, StateDep
from limelight.ui.access import LOGIN_CSRF_COOKIE, PageRoute, local_path, new_login_token
from limelight.ui.rendering import render
from limelight.ui.viewer import FormSignedIn

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LOGIN_TOKEN_MAX_AGE_S = 3600


@router.get("/login", dependencies=[Public])
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 - the conventional name
    return _login_form(request, next_path=local_path(next))


def _login_form(request: Request, *, next_path: str, error: str | None = None, username: str = "",
                status_code: int = 200) -> Response:
    # Login CSRF: a double-submit token (cookie + hidden field) so no other site can sign a browser in.
    token = new_login_token()
    # someone sent here by an invitation link may have no account yet: offer to make one
    signup = "/join/new?" + next_path.split("?", 1)[1] if next_path.startswith("/join?token=") else None
    response = render(request, "login.html", {"viewer": None, "login_token": token, "next_path": next_path,
                                              "error": error, "username": username, "signup_path": signup},
                      status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=LOGIN_TOKEN_MAX_AGE_S, httponly=True,
                        samesite="strict", path="/login", secure=_secure(request))
    return response


@router.post("/login", dependencies=[Public])
def login(
    request: Request, state: StateDep,
    username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)] = "", org: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    next_path = local_path(next)
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not hmac.compare_digest(cookie_token.encode(), csrf_token.encode()):
        return _login_form(request, next_path=next_path, username=username, status_code=403,
                           error="The sign-in form expired; please try again.")
    max_age_s = state.settings.server.session_max_age_s
    try:
        assert state.login_throttle is not None  # built by the lifespan
        cookie, _, _ = auth_service.sign_in(
            state.db, state.login_throttle, username, password, org or None, max_age_s=max_age_s,
            client_addr=request.client.host if request.client else None,
            request_id=getattr(request.state, "request_id", None))
    except LoginThrottled as exc:  # the same throttle as the API's sign-in: no way around it here
        throttled = _login_form(request, next_path=next_path, username=username, error=exc.message, status_code=429)
        throttled.headers.update(exc.headers())
        return throttled
    except Unauthenticated as exc:
        return _login_form(request, next_path=next_path, username=username, error=exc.message, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(auth_service.SESSION_COOKIE, cookie, max_age=max_age_s, httponly=True, samesite="strict",
                        path="/", secure=_secure(request, state.settings.server.cookie_secure))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, viewer: FormSignedIn, session: SessionDep) -> Response:
    auth_service.logout(session, request.cookies.get(auth_service.SESSION_COOKIE))
    response = RedirectResponse("/login?notice=signed-out", status_code=303)
    response.delete_cookie(auth_service.SESSION_COOKIE, path="/")
    return response


@router.post("/switch-org")
def switch_org(request: Request, viewer: FormSignedIn, session: SessionDep,
               org: Annotated[str, Form(max_length=64)]) -> Response:
    cookie = request.cookies.get(auth_service.SESSION_COOKIE)
    if not cookie or not viewer.principal.via_session:
        raise Forbidden("Switching organization needs a signed-in browser session.")
    auth_service.switch_org(session, cookie, org)
    return RedirectResponse("/?notice=org-switched", status_code=303)


def _secure(request: Request, configured: bool | None = None) -> bool:
    return request.url.scheme == "https" if configured is None else configured
