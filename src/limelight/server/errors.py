"""The one place that turns exceptions into the error body; never a traceback to the client."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from limelight.errors import AlreadyExists, LimelightError, Overloaded, ValidationFailed
from limelight.server.json_bodies import is_json_media_type, wrong_media_type
from limelight.server.middleware import BodyTooLarge
from limelight.server.responses import JSON
from limelight.server.routes import allowed_methods

log = logging.getLogger("limelight.server")

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout",
               413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(request: Request, error: LimelightError) -> JSON:
    return JSON(error.to_body(request_id_of(request)), status_code=error.status, headers=error.headers())


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    fields = []
    for err in exc.errors()[:20]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        fields.append({"field": ".".join(loc) or "body", "reason": err.get("msg", "invalid")})
    return {"fields": fields}


def validation_failed(exc: RequestValidationError) -> ValidationFailed:
    """FastAPI's validation error as the one error tree's ``validation_failed`` (422)."""
    details = _validation_details(exc)
    first = details["fields"][0] if details["fields"] else {"field": "body", "reason": "invalid"}
    return ValidationFailed(f"Invalid request: {first['field']}: {first['reason']}", details=details)


def _json_route_given_other_type(request: Request) -> bool:
    """A route with a JSON body got a body declared as something else (text/plain, a form, …)."""
    from fastapi import params

    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None or isinstance(body_field.field_info, params.Form):
        return False
    return not is_json_media_type(request.headers.get("content-type"))


# /v2/models/demo/movies/infer, the commonest KServe v2 mistake, matches no route: say the rule.
_V2_SLASH_NAMED = re.compile(r"^/v2/models/([^/.]+)/([^/]+)(/.*)?$")


def _v2_slash_hint(path: str) -> str | None:
    match = _V2_SLASH_NAMED.match(path)
    if match is None:
        return None
    org, name, tail = match.group(1), match.group(2), match.group(3) or ""
    return f"No route here: KServe v2 names a model org.name, so this is /v2/models/{org}.{name}{tail}."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LimelightError)
    async def _limelight(request: Request, exc: LimelightError) -> JSON:
        if exc.status >= 500:
            log.warning("request %s failed: %s %s", request_id_of(request), exc.code, exc.message)
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSON:
        if _json_route_given_other_type(request):
            return error_response(request, wrong_media_type(request.headers.get("content-type")))
        return error_response(request, validation_failed(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        if isinstance(exc, BodyTooLarge):
            return error_response(request, exc.as_error())
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = _v2_slash_hint(request.scope["path"]) or message
        body: dict[str, Any] = {"error": {"code": code, "message": message, "details": {},
                          "request_id": request_id_of(request)}}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # the router names only the methods of the first route on the path; RFC 9110 wants them all
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope["path"]))
        return JSON(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSON:
        # a concurrent writer won a unique race the service had checked for
        return error_response(request, AlreadyExists("This object already exists (concurrent write)."))

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSON:
        log.error("database error on request %s: %s", request_id_of(request), exc.orig)
        return error_response(request, Overloaded("The metadata database is busy; retry.", retry_after_s=1))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        log.exception("unhandled error on request %s", request_id_of(request))
        body: dict[str, Any] = {"error": {"code": "internal", "message": "Internal error; the request id identifies it in the logs.",
                          "details": {}, "request_id": request_id_of(request)}}
        return JSON(body, status_code=500)
