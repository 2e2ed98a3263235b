"""The published OpenAPI document: FastAPI's, completed with what every route really answers.

Routes declare their success bodies and the errors only they raise; the errors that come from the
shared machinery are added here, from facts about each route, so a new route is documented the
same way without repeating them:

* not public -> 401 (no or bad credentials), 403 (a scope or role missing), 503 (the key lookup
  reads the database, which answers 503 when it is busy), and the security requirement;
* a path parameter -> 404 (another tenant's object answers 404 too);
* a body or a query -> 400 (a body that is not JSON, a malformed cursor, input the schema cannot
  judge); any parameter or body -> 422 (``validation_failed``);
* a body -> 413 (the body limit); a multipart body -> 415;
* a database session -> 503; a writing one -> 409 (a concurrent writer won a unique race).

Every error response gets the body the route really sends: the one error body, or the KServe v2
body on routes whose class says so (``error_model``). FastAPI's own 422 body is replaced, since the
one error handler renders every validation error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from limelight.schemas.common import ErrorBody

__all__ = ["install_openapi"]

_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_REF_PREFIX = "#/components/schemas/"
_CONVERTER = re.compile(r"\{([^}:]+):[^}]+\}")  # {user_id:path} in a route is {user_id} in OpenAPI
_ERROR_MEANINGS = {
    400: "Malformed input: a body that is not JSON, a malformed cursor, or input the schema cannot judge",
    401: "No credentials, or credentials that are not valid",
    403: "The credentials lack the scope or role this needs",
    404: "No such object, or one the caller may not see",
    409: "Conflicts with the current state (an existing name, an object in use)",
    413: "The body is over the size limit",
    415: "The body is not of a media type this accepts",
    422: "The input does not validate",
    503: "Busy or not ready; retry (Retry-After says when)",
}


def security_schemes() -> dict[str, Any]:
    from limelight.auth.service import SESSION_COOKIE

    return {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "an API key: `Authorization: Bearer ll_…`"},
        "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                    "description": "the console's session (unsafe methods also need the X-CSRF-Token header)"},
    }


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
            app.openapi_schema = complete(app, spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(app: FastAPI, spec: dict[str, Any]) -> dict[str, Any]:
    from limelight.server.routes import api_routes

    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _hoist_definitions(spec["paths"], schemas)
    components["securitySchemes"] = security_schemes()
    routes = {(_CONVERTER.sub(r"{\1}", info.path), method.lower()): info.route
              for info in api_routes(app) for method in info.methods}
    for path, method, operation in _operations(spec):
        route = routes.get((path, method))
        if route is not None:
            _complete_operation(operation, method, route, schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _is_referenced(spec, _REF_PREFIX + unused):
            schemas.pop(unused, None)
    return spec


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                yield path, method, operation


def _complete_operation(operation: dict[str, Any], method: str, route: APIRoute, schemas: dict[str, Any]) -> None:
    from limelight.auth.principal import Permission
    from limelight.server.routes import declared_permission

    error_ref = _add_model(schemas, getattr(route, "error_model", ErrorBody))
    public = declared_permission(route) is Permission.public
    statuses = _expected_errors(operation, method, public, _uses_session(route))
    if not public:
        operation["security"] = [{"apiKey": []}, {"session": []}]
    responses = operation.setdefault("responses", {})
    if _is_fastapi_validation(responses.get("422")):
        del responses["422"]
    for status in sorted(statuses):
        responses.setdefault(str(status), {
            "description": _ERROR_MEANINGS.get(status, HTTPStatus(status).phrase),
            "content": {"application/json": {"schema": {"$ref": error_ref}}}})


def _expected_errors(operation: dict[str, Any], method: str, public: bool, uses_session: bool) -> set[int]:
    locations = {p.get("in") for p in operation.get("parameters", [])}
    body = operation.get("requestBody", {}).get("content", {})
    statuses: set[int] = set()
    if not public:
        statuses |= {401, 403, 503}
    if "path" in locations:
        statuses.add(404)
    if body or "query" in locations:
        statuses.add(400)
    if body or locations:
        statuses.add(422)
    if body:
        statuses |= {413, 503}
    if "multipart/form-data" in body:
        statuses.add(415)
    if uses_session:
        statuses.add(503)
        if method in _WRITE_METHODS:
            statuses.add(409)
    return statuses


def _uses_session(route: APIRoute) -> bool:
    from limelight.server.deps import get_session

    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is get_session:
            return True
        stack.extend(dependant.dependencies)
    return False


def _is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    if response is None:
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") == _REF_PREFIX + "HTTPValidationError"


def _add_model(schemas: dict[str, Any], model: type[BaseModel]) -> str:
    if model.__name__ not in schemas:
        schema = model.model_json_schema(ref_template=_REF_PREFIX + "{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return _REF_PREFIX + model.__name__


def _hoist_definitions(node: Any, schemas: dict[str, Any]) -> None:
    """Move ``$defs`` of schemas written into routes by hand (pydantic's ``model_json_schema``) to components."""
    if isinstance(node, dict):
        schemas.update(node.pop("$defs", {}))
        for value in node.values():
            _hoist_definitions(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_definitions(value, schemas)


def _is_referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_is_referenced(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_is_referenced(v, ref) for v in node)
    return False
