"""Signing in and out, the sign-in redirect, and the organization switcher."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import open_menu_if_collapsed, sign_in

pytestmark = pytest.mark.browser


def test_a_page_without_a_session_goes_to_sign_in_and_comes_back(pages, ui_server, new_org):
    org = new_org()
    page, _ = pages.new()
    page.goto("/datasets")
    expect(page).to_have_url(re.compile(r"/login\?next=/datasets$"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_label("Organization").fill(org)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")


def test_api_clients_still_get_json_401(ui_server):
    answer = httpx.get(f"{ui_server.url}/datasets", headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_wrong_password_is_refused_on_the_form(pages, ui_server):
    page, watch = pages.new()
    watch.expect(401, "/login")
    page.goto("/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert not [c for c in page.context.cookies() if c["name"] == "limelight_session"]


def test_session_cookie_is_http_only_and_strict(pages, ui_server, new_org):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, new_org())
    cookie = next(c for c in page.context.cookies() if c["name"] == "limelight_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on 127.0.0.1; Secure is set when served over TLS


def test_switch_organization_then_sign_out(pages, ui_server, new_org):
    first, second = new_org(), new_org()
    page, _ = pages.new("phone")
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, first)
    expect(page.get_by_role("heading", level=1)).to_contain_text(first)
    open_menu_if_collapsed(page)
    page.get_by_label("Organization").select_option(second)
    page.get_by_role("button", name="Switch").click()
    expect(page.locator(".notice")).to_have_text("Organization switched.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(second)
    cookie = next(c for c in page.context.cookies() if c["name"] == "limelight_session")["value"]

    open_menu_if_collapsed(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?notice=signed-out$"))
    expect(page.locator(".notice")).to_have_text("You are signed out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    # the old cookie is dead on the server too, not only forgotten by the browser
    replay = httpx.get(f"{ui_server.url}/api/v1/whoami", cookies={"limelight_session": cookie})
    assert replay.status_code == 401


def test_keyboard_reaches_the_main_content(pages, ui_server, new_org):
    page, _ = pages.new()
    sign_in(page, ui_server.url, "admin", ADMIN_PASSWORD, new_org())
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
