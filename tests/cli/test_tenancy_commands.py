"""orgs, users, members, keys, login/logout, whoami, and how errors look, as a user runs them."""

from __future__ import annotations

import json
import stat

from tests.cli.conftest import Cli
from tests.support.factories import unique
from tests.support.live_server import ADMIN_PASSWORD, LiveServer


def test_whoami_and_orgs(cli: Cli) -> None:
    me = cli("whoami", "--json").json()
    assert (me["username"], me["org"], me["role"]) == ("admin", cli.tenant.org, "owner")
    table = cli("orgs", "list").out
    assert cli.tenant.org in table and "owner" in table


def test_users_members_and_keys(cli: Cli) -> None:
    username = unique("bob")
    cli("users", "create", username, "--password", "bob-password-123")
    added = cli("members", "add", username, "--role", "viewer", "--org", cli.tenant.org)
    assert f"{username} is now viewer of {cli.tenant.org}" in added.err
    members = cli("members", "list", "--json").json()
    assert {"username": username, "role": "viewer", "org": cli.tenant.org} in members["items"]
    cli("members", "remove", username)

    created = cli("keys", "create", unique("ci"), "--scope", "read", "--expires-in-days", "3")
    key = created.out.strip()
    assert key.startswith("ll_") and "\n" not in key and "shown again" in created.err
    assert cli("whoami", "--json", LIMELIGHT_API_KEY=key).json()["scopes"] == ["read"]
    key_id = next(k["id"] for k in cli("keys", "list", "--json").json()["items"] if key.startswith(f"ll_{k['id']}_"))
    assert f"Revoked key {key_id}" in cli("keys", "revoke", key_id).err


def test_invite_then_sign_up_by_the_token_and_sign_in(cli: Cli) -> None:
    created = cli("invitations", "create", "--role", "viewer", "--email", "ada@example.com")
    token = created.out.strip()
    assert len(token) >= 40 and "\n" not in token and "/join?token=" in created.err
    newcomer = unique("ada")
    # no key at all: the token is the credential
    joined = cli("invitations", "register", token, "--username", newcomer, "--password", "ada-password-123",
                 "--json", LIMELIGHT_API_KEY=None).json()
    assert (joined["org"], joined["role"], joined["accepted_by"]) == (cli.tenant.org, "viewer", newcomer)
    listed = cli("invitations", "list", "--json").json()["items"]
    assert any(i["status"] == "accepted" and i["accepted_by"] == newcomer for i in listed)
    again = cli("invitations", "register", token, "--username", unique("eve"), "--password", "eve-password-123",
                LIMELIGHT_API_KEY=None, expect=1)
    assert "invitation_used" in again.err and "HTTP 409" in again.err
    key = cli("login", "--username", newcomer, "--password", "ada-password-123", LIMELIGHT_API_KEY=None).out.strip()
    assert cli("whoami", "--json", LIMELIGHT_API_KEY=key).json()["role"] == "viewer"

    pending = cli("invitations", "create", "--json").json()
    assert f"Withdrew invitation {pending['id']}" in cli("invitations", "revoke", pending["id"]).err
    withdrawn = cli("invitations", "accept", pending["token"], LIMELIGHT_API_KEY=key, expect=1)
    assert "invitation_revoked" in withdrawn.err


def test_api_errors_print_code_message_details_and_request_id(cli: Cli) -> None:
    missing = cli("models", "show", unique("missing"), expect=1)
    assert "not_found" in missing.err and "HTTP 404" in missing.err and "request id:" in missing.err
    assert missing.out == ""
    invalid = cli("models", "create", "Bad Name", "--task", "other", expect=1)
    assert "validation_failed" in invalid.err and '"field": "name"' in invalid.err


def test_unreachable_server_and_bad_usage(cli: Cli, sqlite_server: LiveServer) -> None:
    down = cli("whoami", "--url", "http://127.0.0.1:9", expect=1)
    assert "Cannot reach limelight at http://127.0.0.1:9" in down.err
    usage = cli("jobs", "submit", "classify/lightgbm", "--model", "m", "--param", "no-equals-sign", expect=2)
    assert "key=value" in usage.err


def test_login_save_whoami_logout(cli: Cli, sqlite_server: LiveServer) -> None:
    login = cli("login", "--username", "admin", "--org", cli.tenant.org, "--save", stdin=ADMIN_PASSWORD + "\n",
                LIMELIGHT_API_KEY=None)
    saved = cli.config_dir / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and "Saved to" in login.err
    saved_text = saved.read_text()
    assert login.out == ""  # the key went to the file, not the terminal
    me = cli("whoami", "--json", LIMELIGHT_API_KEY=None, LIMELIGHT_URL=None).json()
    assert (me["org"], sorted(me["scopes"])) == (cli.tenant.org, ["predict", "read", "write"])

    logout = cli("logout")
    assert "revoked key" in logout.err and not saved.exists()
    with_revoked_key = cli("whoami", expect=1, LIMELIGHT_API_KEY=login_key(cli, saved_text),
                           LIMELIGHT_URL=sqlite_server.url)
    assert "revoked" in with_revoked_key.err and "unauthenticated" in with_revoked_key.err
    assert "HTTP 401" in with_revoked_key.err


def login_key(cli: Cli, saved_text: str) -> str:
    return str(json.loads(saved_text)["api_key"])


def test_login_without_save_prints_the_key_only(cli: Cli) -> None:
    login = cli("login", "--username", "admin", "--password", ADMIN_PASSWORD, "--org", cli.tenant.org,
                "--key-name", unique("laptop"), "--scope", "read", "--expires-in-days", "1")
    key = login.out.strip()
    assert key.startswith("ll_") and "export LIMELIGHT_API_KEY" in login.err
    assert not (cli.config_dir / "credentials.json").exists()
    assert cli("whoami", "--json", LIMELIGHT_API_KEY=key).json()["scopes"] == ["read"]
