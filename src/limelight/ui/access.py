"""Who may see a console page, and what a browser gets when they may not.

Pages declare their permission exactly like API routes (``Requires`` from server/deps.py), so the
route-coverage test covers them. ``PageRoute`` only changes how a refusal is *shown* to a browser
(a request that accepts HTML): a missing session redirects to the sign-in page and other errors
render an HTML page. API clients (curl, the SDK, fetch) still get the JSON error body and status.

Plain HTML forms cannot send the ``X-CSRF-Token`` header the auth service checks, so
``FormRequires`` takes the token from the form's hidden ``csrf_token`` field and presents it as
that header: the token comparison, session expiry and membership rules stay in the auth service.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from limelight.auth import service as auth_service
from limelight.auth.principal import Principal
from limelight.errors import LimelightError, Unauthenticated, ValidationFailed
from limelight.server.deps import Requires, StateDep

CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "limelight_login_csrf"


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site is a safe redirect target (no scheme, no //host, no backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def sign_in_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = here if request.method == "GET" else "/"
    response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    response.delete_cookie(auth_service.SESSION_COOKIE, path="/")
    return response


class PageRoute(APIRoute):
    """An API route whose errors a browser sees as a page (or a sign-in redirect)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthenticated:
                if not wants_html(request):
                    raise
                return sign_in_redirect(request)
            except RequestValidationError as exc:
                if not wants_html(request):
                    raise
                return _error_page(request, ValidationFailed(f"Invalid request: {exc.errors()[0].get('msg', '')}"))
            except LimelightError as exc:
                if not wants_html(request):
                    raise
                return _error_page(request, exc)

        return handle


def _error_page(request: Request, error: LimelightError) -> Response:
    from limelight.ui.rendering import render_error

    return render_error(request, error)


class FormRequires(Requires):
    """``Requires`` for plain HTML form posts: the CSRF token comes from the ``csrf_token`` field."""

    async def __call__(self, request: Request, state: StateDep) -> Principal:  # type: ignore[override]
        form = await request.form()
        token = form.get(CSRF_FIELD)
        checked = request
        if isinstance(token, str) and token and auth_service.CSRF_HEADER not in request.headers:
            scope = dict(request.scope)
            scope["headers"] = [*request.scope["headers"], (auth_service.CSRF_HEADER.encode(), token.encode())]
            checked = Request(scope, request.receive)
        return await run_in_threadpool(Requires.__call__, self, checked, state)

    def __repr__(self) -> str:
        return f"FormRequires({self.permission.value})"


def new_login_token() -> str:
    return secrets.token_urlsafe(24)
