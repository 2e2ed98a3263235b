"""``limelight orgs|users|members|invitations|keys`` and ``login``/``logout``/``whoami``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from limelight.cli.connection import (
    AllOpt,
    ApiKeyOpt,
    CursorOpt,
    JsonOpt,
    LimitOpt,
    OrgOpt,
    SavedLogin,
    UrlOpt,
    api_errors,
    connect,
    credentials_path,
    load_saved,
    org_of,
    resolve,
    save_login,
)
from limelight.cli.output import print_json, print_page, print_record, stderr, whole_page
from limelight.cli.quotas import quota_app
from limelight.client import Client
from limelight.errors import Unauthenticated
from limelight.schemas.common import Page
from limelight.schemas.tenancy import InvitationRead, KeyRead, MemberRead, OrgRead, Role, Scope, Whoami

orgs_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts (system admins).", no_args_is_help=True)
members_app = typer.Typer(help="Who belongs to an organization, with which role.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
invitations_app = typer.Typer(help="Invite people to an organization by token; accept or sign up by one.",
                              no_args_is_help=True)
orgs_app.add_typer(quota_app, name="quota")

ORG_COLUMNS = [("name", lambda o: o.name), ("display name", lambda o: o.display_name),
               ("your role", lambda o: o.role), ("created", lambda o: o.created_at)]
MEMBER_COLUMNS = [("username", lambda m: m.username), ("role", lambda m: m.role), ("org", lambda m: m.org)]
INVITATION_COLUMNS = [("id", lambda i: i.id), ("role", lambda i: i.role), ("status", lambda i: i.status),
                      ("email", lambda i: i.email), ("expires", lambda i: i.expires_at),
                      ("accepted by", lambda i: i.accepted_by)]
KEY_COLUMNS = [("id", lambda k: k.id), ("name", lambda k: k.name), ("org", lambda k: k.org),
               ("scopes", lambda k: k.scopes), ("expires", lambda k: k.expires_at),
               ("revoked", lambda k: k.revoked_at), ("last used", lambda k: k.last_used_at)]
ScopeOpt = Annotated[list[Scope] | None, typer.Option("--scope", help="repeat for several (default: read, predict)")]


@orgs_app.command("create")
def orgs_create(name: Annotated[str, typer.Argument(help="lowercase name, e.g. studio")],
                display_name: Annotated[str, typer.Option(help="human-readable name")] = "",
                json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Create an organization (system admins); you become its owner."""
    with connect(url, api_key) as client:
        org = client.orgs.create(name, display_name)
    _show_org(org, json_out)


@orgs_app.command("list")
def orgs_list(json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """The organizations you belong to (all of them, for a system admin)."""
    with connect(url, api_key) as client:
        page: Page[OrgRead] = whole_page(client.orgs.iter())
    print_page(page, ORG_COLUMNS, as_json=json_out)


def _show_org(org: OrgRead, json_out: bool) -> None:
    if json_out:
        print_json(org)
    else:
        print_record([(h, read(org)) for h, read in ORG_COLUMNS], title=f"Organization {org.name}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="lowercase login name")],
    password: Annotated[str | None, typer.Option(help="10+ characters (prompted when absent)")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="make a system admin")] = False,
    json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Create a user account (system admins); then add it to an org with `limelight members add`."""
    if password is None:
        password = ask("Password for the new user", confirm=True)
    with connect(url, api_key) as client:
        user = client.users.create(username, password, is_admin=admin)
    if json_out:
        print_json(user)
    else:
        print_record([("id", user.id), ("username", user.username), ("admin", user.is_admin)], title="User created")


@members_app.command("add")
def members_add(username: str, role: Annotated[Role, typer.Option(help="role in the org")] = Role.member,
                org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Add a user to an organization (or change their role)."""
    with connect(url, api_key) as client:
        member = client.members.add(org_of(client, org), username, role)
    if json_out:
        print_json(member)
    else:
        stderr().print(f"{member.username} is now {member.role.value} of {member.org}.")


@members_app.command("list")
def members_list(org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Members of an organization and their roles."""
    with connect(url, api_key) as client:
        page: Page[MemberRead] = whole_page(client.members.iter(org_of(client, org)))
    print_page(page, MEMBER_COLUMNS, as_json=json_out)


@members_app.command("remove")
def members_remove(username: str, org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Remove a user from an organization (their keys for it stop working)."""
    with connect(url, api_key) as client:
        name = org_of(client, org)
        client.members.remove(name, username)
    stderr().print(f"Removed {username} from {name}.")


@invitations_app.command("create")
def invitations_create(
    role: Annotated[Role, typer.Option(help="the role the invitee gets")] = Role.member,
    email: Annotated[str | None, typer.Option(help="whom it is for (recorded; limelight sends no mail)")] = None,
    expires_in_hours: Annotated[int, typer.Option(min=1, max=720, help="lifetime of the token")] = 168,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Invite someone (owners): prints the token, shown only now, and the console link."""
    with connect(url, api_key) as client:
        created = client.invitations.create(org_of(client, org), role, email=email, expires_in_hours=expires_in_hours)
        link = client.base_url + created.accept_url
    if json_out:
        print_json(created)
        return
    stderr().print(f"Invited to {created.org} as {created.role.value}, until {created.expires_at:%Y-%m-%d %H:%M} UTC. "
                   f"Send the link ({escape(link)}) or the token below; it admits one person.")
    print(created.token)


@invitations_app.command("list")
def invitations_list(org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
                     api_key: ApiKeyOpt = None) -> None:
    """An organization's invitations and their status (owners)."""
    with connect(url, api_key) as client:
        page: Page[InvitationRead] = client.invitations.list(org_of(client, org))
    print_page(page, INVITATION_COLUMNS, as_json=json_out)


@invitations_app.command("revoke")
def invitations_revoke(invitation_id: str, org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Withdraw a pending invitation."""
    with connect(url, api_key) as client:
        name = org_of(client, org)
        client.invitations.revoke(name, invitation_id)
    stderr().print(f"Withdrew invitation {invitation_id} of {name}.")


@invitations_app.command("accept")
def invitations_accept(token: str, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Join the inviting organization as yourself (the user of your key)."""
    with connect(url, api_key) as client:
        joined = client.invitations.accept(token)
    _joined(joined, json_out)


@invitations_app.command("register")
def invitations_register(
    token: str,
    username: Annotated[str | None, typer.Option(help="the new account's name (prompted when absent)")] = None,
    password: Annotated[str | None, typer.Option(help="prompted (twice) when absent; avoid it on shared machines")] = None,
    json_out: JsonOpt = False, url: UrlOpt = None,
) -> None:
    """Sign up by an invitation: no account or key needed. Then `limelight login` with the new account."""
    username = username or typer.prompt("Username", err=True)
    password = password if password is not None else ask("Password", confirm=True)
    base_url, _ = resolve(url, None)
    with api_errors(base_url), Client(base_url, api_key="") as client:  # "": not LIMELIGHT_API_KEY
        joined = client.invitations.register(token, username, password)
    _joined(joined, json_out)


def _joined(joined: InvitationRead, json_out: bool) -> None:
    if json_out:
        print_json(joined)
    else:
        stderr().print(f"{joined.accepted_by} joined {joined.org} as {joined.role.value}.")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="a label, e.g. ci-deploy")],
    scope: ScopeOpt = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650, help="never expires when absent")] = None,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Create an API key for yourself; the secret is printed once, on stdout."""
    scopes = scope or [Scope.read, Scope.predict]
    with connect(url, api_key) as client:
        created = client.keys.create(name, org_of(client, org), scopes, expires_in_days=expires_in_days)
    if json_out:
        print_json(created)
        return
    stderr().print(f"Key {created.id} ({', '.join(s.value for s in created.scopes)}) for {created.org}; "
                   "store the secret now, it is not shown again:")
    print(created.key)


@keys_app.command("list")
def keys_list(limit: LimitOpt = 100, cursor: CursorOpt = None, all_pages: AllOpt = False, json_out: JsonOpt = False,
              url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Your API keys (never their secrets)."""
    with connect(url, api_key) as client:
        page = whole_page(client.keys.iter(limit=limit)) if all_pages else client.keys.list(limit=limit, cursor=cursor)
    print_page(page, KEY_COLUMNS, as_json=json_out)


@keys_app.command("revoke")
def keys_revoke(key_id: str, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Revoke an API key at once."""
    with connect(url, api_key) as client:
        key: KeyRead = client.keys.revoke(key_id)
    if json_out:
        print_json(key)
    else:
        stderr().print(f"Revoked key {key.id} ({key.name}).")


def login(
    username: Annotated[str | None, typer.Option(help="your username (prompted when absent)")] = None,
    password: Annotated[str | None, typer.Option(help="prompted when absent; avoid it on shared machines")] = None,
    org: Annotated[str | None, typer.Option("--org", "-o", help="org for the key (default: your first)")] = None,
    key_name: Annotated[str | None, typer.Option(help="label of the new key (default: cli-<timestamp>)")] = None,
    scope: Annotated[list[Scope] | None, typer.Option("--scope", help="scope of the key; repeat for several (default: read, predict, write)")] = None,
    expires_in_days: Annotated[int, typer.Option(min=1, max=3650, help="lifetime of the key")] = 90,
    save: Annotated[bool, typer.Option("--save", help=f"store the key in {credentials_path()} (mode 0600)")] = False,
    url: UrlOpt = None,
) -> None:
    """Sign in with your password and get an API key for the CLI and SDK.

    Nothing is written to disk unless you pass --save; otherwise export the printed key as
    LIMELIGHT_API_KEY.
    """
    username = username or typer.prompt("Username", err=True)
    password = password if password is not None else ask("Password")
    base_url, _ = resolve(url, None)
    name = key_name or "cli-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    with api_errors(base_url), Client(base_url, api_key="") as client:  # "": not LIMELIGHT_API_KEY
        session = client.auth.login(username, password, org)
        created = client.keys.create(name, session.org or "", scope or [Scope.read, Scope.predict, Scope.write],
                                     expires_in_days=expires_in_days)
        client.auth.logout()
    console = stderr()
    expires = f"expires {created.expires_at:%Y-%m-%d}" if created.expires_at else "no expiry"
    console.print(f"Signed in as {session.username} in {created.org}; created key {created.id} "
                  f"({', '.join(s.value for s in created.scopes)}, {expires}).")
    if save:
        path = save_login(SavedLogin(url=base_url, api_key=created.key, key_id=created.id, org=created.org,
                                     username=session.username))
        console.print(f"Saved to {escape(str(path))}; `limelight logout` revokes and removes it.")
        return
    console.print("Use it with:  export LIMELIGHT_API_KEY=<the key below>")
    print(created.key)


def ask(prompt: str, *, confirm: bool = False) -> str:
    """A hidden prompt on stderr, so stdout stays clean for ``KEY=$(limelight login)``."""
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def logout(keep_key: Annotated[bool, typer.Option(help="remove the saved login but leave the key valid")] = False
           ) -> None:
    """Forget the login saved by `limelight login --save`, revoking its key."""
    saved = load_saved()
    path = credentials_path()
    if saved is None:
        stderr().print(f"No saved login at {escape(str(path))}. To stop using a key: limelight keys revoke KEY_ID")
        return
    revoked = ""
    if not keep_key and saved.key_id:
        with api_errors(saved.url), Client(saved.url, saved.api_key) as client:
            try:
                client.keys.revoke(saved.key_id)
                revoked = f" and revoked key {saved.key_id}"
            except Unauthenticated:  # already revoked or expired: nothing left to revoke
                revoked = f"; key {saved.key_id} was no longer valid"
    path.unlink(missing_ok=True)
    stderr().print(f"Removed {escape(str(path))}{revoked}.")


def whoami(json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Who your credentials are: user, org, role, scopes."""
    with connect(url, api_key) as client:
        me: Whoami = client.whoami()
        server = client.base_url
    if json_out:
        print_json(me)
        return
    print_record([("user", me.username), ("org", me.org), ("role", me.role), ("scopes", me.scopes),
                  ("system admin", me.is_admin), ("server", server)])


def register(app: typer.Typer) -> None:
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(users_app, name="users")
    app.add_typer(members_app, name="members")
    app.add_typer(invitations_app, name="invitations")
    app.add_typer(keys_app, name="keys")
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
