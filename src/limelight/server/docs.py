"""/docs (Swagger UI) and /redoc from assets served here, never from a CDN, under a CSP of their own.

FastAPI's built-in pages load Swagger UI and ReDoc from a CDN and start them with an inline script.
Here the same releases come from the ``fastapi-offline`` package's files, mounted at /docs/assets,
and Swagger UI starts from /docs/swagger-init.js, so the pages run with ``script-src 'self'``.
Swagger UI then runs under the console's own strict policy; ReDoc styles its components from
JavaScript through inline ``<style>`` elements, so its page alone allows inline styles (not scripts).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

__all__ = ["REDOC_CONTENT_SECURITY_POLICY", "SWAGGER_CONTENT_SECURITY_POLICY", "install_docs"]

ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
_COMMON_POLICY = ["default-src 'none'", "script-src 'self'", "img-src 'self' data:", "connect-src 'self'",
                  "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]
SWAGGER_CONTENT_SECURITY_POLICY = "; ".join([*_COMMON_POLICY, "style-src 'self'"])
# ReDoc's styled-components write rules into <style> elements it creates: blocked, ReDoc fails to
# render at all. Its search index runs in a Worker made from a blob: URL.
REDOC_CONTENT_SECURITY_POLICY = "; ".join([*_COMMON_POLICY, "style-src 'self' 'unsafe-inline'",
                                           "worker-src blob:"])
# Same settings as FastAPI's default Swagger UI page.
_SWAGGER_INIT_JS = b"""\
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""
_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css"><link rel="icon" href="{root}/static/favicon.svg">
</head><body><div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{root}/docs/assets/swagger-ui-bundle.js"></script><script src="{root}/docs/swagger-init.js"></script>
</body></html>
"""
_REDOC_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="{root}/static/favicon.svg">
</head><body><redoc spec-url="{openapi_url}"></redoc><script src="{root}/docs/assets/redoc.standalone.js"></script>
</body></html>
"""


def install_docs(app: FastAPI) -> None:
    """Create the app with ``docs_url=None, redoc_url=None``, then call this."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    async def swagger_page(request: Request) -> Response:
        return _page(request, app, _SWAGGER_PAGE, SWAGGER_CONTENT_SECURITY_POLICY)

    async def swagger_init(request: Request) -> Response:
        return Response(_SWAGGER_INIT_JS, media_type="text/javascript")

    async def redoc_page(request: Request) -> Response:
        return _page(request, app, _REDOC_PAGE, REDOC_CONTENT_SECURITY_POLICY)

    app.add_route("/docs", swagger_page, include_in_schema=False)
    app.add_route("/docs/swagger-init.js", swagger_init, include_in_schema=False)
    app.add_route("/redoc", redoc_page, include_in_schema=False)


def _page(request: Request, app: FastAPI, template: str, policy: str) -> HTMLResponse:
    root = escape(request.scope.get("root_path", "").rstrip("/"))
    html = template.format(title=escape(app.title), root=root, openapi_url=f"{root}{escape(app.openapi_url or '')}")
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})
