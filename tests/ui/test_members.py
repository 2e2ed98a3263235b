"""The organization page in Chromium: an owner invites by link, another person joins through it,
the owner changes their role, they leave; a used link says so on the join page."""

from __future__ import annotations

from tests.support.live_server import ADMIN_PASSWORD
from tests.ui.browser import confirm_dialog, screenshot, sign_in
from tests.ui.conftest import USER_PASSWORD


def test_invite_join_change_role_and_leave(pages, ui_server, new_org, new_member, org_api):  # type: ignore[no-untyped-def]
    org, home = new_org(), new_org()
    guest = new_member(home, "member")  # has an org of their own to come back to

    owner_page, _ = pages.new()
    sign_in(owner_page, ui_server.url, "admin", ADMIN_PASSWORD, org)
    owner_page.goto("/members")
    owner_page.get_by_label("Role", exact=True).select_option("viewer")
    owner_page.get_by_label("E-mail (optional, for your records)").fill("guest@example.com")
    owner_page.get_by_role("button", name="Create invitation link").click()
    link = owner_page.locator("#join-link").inner_text().strip()
    assert link.startswith(f"{ui_server.url}/join?token=")
    screenshot(owner_page, "members-invitation-created")

    guest_page, guest_watch = pages.new("phone")
    sign_in(guest_page, ui_server.url, guest, USER_PASSWORD, home)
    guest_page.goto(link)
    assert "as viewer" in guest_page.locator("#join-card").inner_text()
    guest_page.get_by_role("button", name=f"Accept and join {org}").click()
    guest_page.wait_for_url("**/members?notice=joined")
    assert guest_page.locator(f'#members-table tr[data-member="{guest}"]').inner_text().split()[-1] == "viewer"
    assert guest_page.locator("#invite-form").count() == 0  # a viewer sees no owner controls

    owner_page.goto("/members")
    row = owner_page.locator(f'#members-table tr[data-member="{guest}"]')
    row.get_by_label(f"Role of {guest}").select_option("member")
    row.get_by_role("button", name="Change").click()
    owner_page.wait_for_url("**/members?notice=role-changed")
    roles = {m["username"]: m["role"] for m in org_api(org).get(f"/api/v1/orgs/{org}/members").json()["items"]}
    assert roles[guest] == "member"
    accepted = owner_page.locator("#invitations-table tbody tr").first.inner_text()
    assert "accepted" in accepted and guest in accepted

    again = guest_page.context.new_page()
    again.goto(link)
    assert "This invitation is accepted" in again.locator("#join-card").inner_text()
    again.close()

    guest_page.goto("/members")
    guest_page.get_by_role("button", name=f"Leave {org}").click()
    confirm_dialog(guest_page)
    guest_page.wait_for_url("**/?notice=org-left")
    roles = {m["username"] for m in org_api(org).get(f"/api/v1/orgs/{org}/members").json()["items"]}
    assert guest not in roles
    assert guest_watch.errors == []


def test_someone_without_an_account_signs_up_through_the_invitation_link(pages, ui_server, new_org, org_api):  # type: ignore[no-untyped-def]
    org = new_org()
    invitation = org_api(org).post(f"/api/v1/orgs/{org}/invitations", json={"role": "maintainer"}).json()
    link = f"{ui_server.url}{invitation['accept_url']}"

    page, watch = pages.new("phone")
    page.goto(link)  # not signed in: the sign-in page, which offers to make an account instead
    page.wait_for_url("**/login?next=**")
    page.locator("#signup-offer").get_by_role("link", name="Create your account").click()
    page.wait_for_url("**/join/new?token=*")
    card = page.locator("#signup-card")
    assert f"invited you to {org} as maintainer" in " ".join(card.inner_text().split())
    name = f"fresh-{invitation['id'][:8]}"
    page.get_by_label("Username").fill(name)
    page.locator("#password").fill("a-long-enough-password")
    page.locator("#password_again").fill("not-the-same-password")
    watch.expect(422, "/join/new")  # the form comes back, with the reason, as a 422
    page.get_by_role("button", name=f"Create my account and join {org}").click()
    assert "The two passwords differ." in page.locator("#signup-card [role=alert]").inner_text()
    assert page.get_by_label("Username").input_value() == name  # what was typed is kept
    page.locator("#password").fill("a-long-enough-password")
    page.locator("#password_again").fill("a-long-enough-password")
    page.get_by_role("button", name=f"Create my account and join {org}").click()
    page.wait_for_url("**/?notice=joined")
    screenshot(page, "signup-joined")
    page.goto("/members")  # signed in to the inviting org, with the invitation's role
    assert page.locator(f'#members-table tr[data-member="{name}"]').inner_text().split()[-1] == "maintainer"

    spent, _ = pages.new()
    spent.goto(f"/join/new?token={invitation['token']}")
    assert "This invitation is accepted" in spent.locator("#signup-card").inner_text()
    assert watch.errors == []
