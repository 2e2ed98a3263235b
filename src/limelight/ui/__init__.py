"""The web console: server-rendered pages (Jinja2) calling the same services as the API.

``install_ui(app)`` is called by the app factory: it builds the template environment, includes
the page routers at ``/`` and serves the hand-written assets at ``/static``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["install_ui"]


def install_ui(app: FastAPI) -> None:
    from limelight.ui.pages import (
        admin,
        datasets,
        experiments,
        members,
        models,
        monitoring,
        overview,
        playground,
        session,
        training,
        usage,
    )
    from limelight.ui.rendering import STATIC_DIR, build_ui

    app.state.ui = build_ui()
    for module in (session, overview, datasets, training, models, playground, monitoring, admin,
                   members, usage, experiments):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
