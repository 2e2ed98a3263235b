"""Rendering pages: one Jinja2 environment (autoescaped), security headers on every page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from limelight.errors import LimelightError

UI_DIR = Path(__file__).parent
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"

# No inline script or style anywhere: scripts and styles come from /static only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: https:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'", "form-action 'self'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# Fixed notices a redirect may ask for by key (never free text from the URL).
NOTICES = {
    "signed-out": "You are signed out.",
    "org-switched": "Organization switched.",
    "dataset-deleted": "Dataset deleted.",
    "alias-set": "Alias moved.",
    "alias-removed": "Alias removed.",
    "visibility-set": "Visibility changed.",
    "card-saved": "Model card saved.",
    "key-revoked": "API key revoked.",
    "role-changed": "Role changed.",
    "member-removed": "Member removed.",
    "invitation-revoked": "Invitation withdrawn.",
    "org-left": "You left the organization.",
    "joined": "Welcome: you joined the organization.",
    "experiment-stopped": "Experiment stopped.",
    "experiment-decided": "Decision applied.",
}


@dataclass
class Ui:
    """What the console builds once per app (in ``install_ui``), reached via ``app.state.ui``."""

    templates: Environment
    static_version: str = field(default="0")


def build_ui() -> Ui:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=_when, ago=_ago, size=_size, num=_num, pct=_pct)
    newest = max((p.stat().st_mtime_ns for p in STATIC_DIR.rglob("*") if p.is_file()), default=0)
    return Ui(templates=env, static_version=format(newest % 10**10, "x"))


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ui: Ui = request.app.state.ui
    notice = NOTICES.get(request.query_params.get("notice", ""))
    page = ui.templates.get_template(template)
    body = page.render(request_path=request.url.path, static_v=ui.static_version, notice=notice, **context)
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def render_error(request: Request, error: LimelightError) -> HTMLResponse:
    request_id = getattr(request.state, "request_id", None)
    response = render(request, "error.html", {"viewer": None, "error": error, "request_id": request_id},
                      status_code=error.status)
    for key, value in error.headers().items():
        response.headers.setdefault(key, value)
    return response


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = max(0, int((datetime.now(UTC) - value).total_seconds()))
    for unit_s, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= unit_s:
            return f"{seconds // unit_s} {unit} ago"
    return f"{seconds} s ago"


def _size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return "—"
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"
