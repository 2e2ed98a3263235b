"""Driving Debian's Chromium with Playwright: launch options, console watching, sign-in, screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 860}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                         "device_scale_factor": 1}
VIEWPORTS: dict[str, dict[str, Any]] = {"desktop": DESKTOP, "phone": PHONE}
TIMEOUT_MS = 20_000


@dataclass
class ConsoleWatch:
    """Every console error and uncaught page error; a test fails on any it did not expect.

    ``expect(status, url_part)`` allows one kind of message: Chromium logs every 4xx/5xx answer
    to a fetch or XHR as a console error, and some tests provoke exactly such answers on purpose.
    """

    errors: list[str] = field(default_factory=list)
    allowed: list[tuple[int, str]] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self._console(msg))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        text = f"{msg.text} @ {msg.location.get('url', '')}"
        status = re.search(r"status of (\d{3})", msg.text)
        if status and any(int(status.group(1)) == code and part in text for code, part in self.allowed):
            return
        self.errors.append(text)

    def expect(self, status: int, url_part: str) -> None:
        self.allowed.append((status, url_part))

    def assert_clean(self) -> None:
        assert self.errors == [], "browser console errors:\n" + "\n".join(self.errors)


def sign_in(page: Any, base_url: str, username: str, password: str, org: str | None = None) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if org:
        page.get_by_label("Organization").fill(org)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_menu_if_collapsed(page: Any) -> None:
    """On a phone the navigation sits behind the Menu button."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def confirm_dialog(page: Any) -> None:
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Confirm").click()
