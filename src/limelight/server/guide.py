"""/guide: the user guide (MkDocs + Material, built from ``docs/``) served as static files, so it
works offline beside the API it describes.

The guide is public, like /docs. Its pages run Material's scripts from /guide/assets and a few
short inline scripts Material writes into every page; the policy allows exactly those inline
scripts by their SHA-256 (read from the built page once), so the guide runs without
``'unsafe-inline'`` for scripts. Material sets inline ``style`` attributes on its widgets, so styles
may be inline (they cannot run code).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

__all__ = ["BUILT_GUIDE", "install_guide"]

BUILT_GUIDE = Path(str(files("limelight") / "ui" / "guide"))
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>(.*?)</script>", re.S)
_POLICY = ["default-src 'none'", "img-src 'self' data:", "style-src 'self' 'unsafe-inline'", "font-src 'self'",
           "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'", "frame-ancestors 'none'",
           "base-uri 'none'", "form-action 'none'"]
_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Guide not built</title></head>
<body><h1>The user guide is not built in this install</h1>
<p>Run <code>scripts/bootstrap</code> (it builds the guide when the <code>guide</code> extra is installed), or
<code>mkdocs build -d src/limelight/ui/guide</code> from a source checkout, then reload. The same pages are
Markdown files in the repository's <code>docs/</code> folder.</p></body></html>"""


@lru_cache(maxsize=512)
def _policy_for(path: str, mtime_ns: int) -> str:
    html = Path(path).read_text(encoding="utf-8", errors="replace")
    hashes = {base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
              for body in _INLINE_SCRIPT.findall(html)}
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in sorted(hashes))])
    return "; ".join([*_POLICY, f"script-src {scripts}"])


class _GuideFiles(StaticFiles):
    """Static files whose HTML pages carry a CSP naming their own inline scripts."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        policy = "; ".join([*_POLICY, "script-src 'self'"])
        if str(full_path).endswith(".html"):
            policy = _policy_for(str(full_path), stat_result.st_mtime_ns)
        response.headers["Content-Security-Policy"] = policy
        return response


def install_guide(app: FastAPI, built: Path | None) -> None:
    """Mounts ``built`` (default: the guide built into the package) at /guide, or a page saying how
    to build it."""
    site = built or BUILT_GUIDE
    if (site / "index.html").is_file():
        app.mount("/guide", _GuideFiles(directory=site, html=True), name="guide")
        return

    async def not_built(request: Request) -> Response:
        return HTMLResponse(_NOT_BUILT, status_code=404, headers={"Cache-Control": "no-store"})

    app.add_route("/guide", not_built, include_in_schema=False)
    app.add_route("/guide/{path:path}", not_built, include_in_schema=False)
