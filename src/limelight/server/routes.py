"""The app's API routes with their full paths, whatever way routers were included."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path

if TYPE_CHECKING:
    from limelight.auth.principal import Permission


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: APIRoute


def api_routes(app: FastAPI) -> Iterator[RouteInfo]:
    for path, methods, route in _all_routes(app):
        if isinstance(route, APIRoute):
            yield RouteInfo(path, methods, route)


def _all_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], object]]:
    """(full path, methods, route) of every route with methods, API or not (the console's pages)."""
    try:  # FastAPI >= 0.16x keeps included routers as nodes; this walks them with full paths
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies routes with their prefixes into app.routes
        for route in app.routes:
            yield getattr(route, "path", ""), frozenset(getattr(route, "methods", None) or ()), route
        return
    for context in iter_route_contexts(app.routes):
        yield context.path or "", frozenset(context.methods or ()), context.route


def declared_permission(route: APIRoute) -> Permission | None:
    """The permission a route declares through ``Requires(...)`` or ``Public``, None if it declares none."""
    from limelight.server.deps import Requires, _PublicMarker

    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Requires | _PublicMarker):
            return dependant.call.permission
        stack.extend(dependant.dependencies)
    return None


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers at ``path`` (for the ``Allow`` header of a 405)."""
    methods: set[str] = set()
    for template, route_methods, _route in _all_routes(app):
        if route_methods and _path_regex(template).match(path):
            methods |= route_methods
    return sorted(methods)


@functools.lru_cache(maxsize=1024)
def _path_regex(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]
