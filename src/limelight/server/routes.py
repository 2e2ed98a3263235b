"""The app's API routes with their full paths, whatever way routers were included."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: APIRoute


def api_routes(app: FastAPI) -> Iterator[RouteInfo]:
    try:  # FastAPI >= 0.16x keeps included routers as nodes; this walks them with full paths
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies routes with their prefixes into app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield RouteInfo(route.path, frozenset(route.methods or ()), route)
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute):
            yield RouteInfo(context.path or "", frozenset(context.methods or ()), context.route)
