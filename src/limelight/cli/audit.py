"""``limelight audit list|verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from limelight.cli.connection import (
    AllOpt,
    ApiKeyOpt,
    CursorOpt,
    JsonOpt,
    LimitOpt,
    OrgOpt,
    UrlOpt,
    connect,
    org_of,
)
from limelight.cli.output import print_json, print_page, stderr, whole_page
from limelight.schemas.audit import AuditEntryRead
from limelight.schemas.common import Page

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)

AUDIT_COLUMNS = [("seq", lambda e: e.seq), ("when", lambda e: e.created_at), ("actor", lambda e: e.actor),
                 ("action", lambda e: e.action), ("object", lambda e: f"{e.object_type}:{e.object_id}"),
                 ("details", lambda e: e.details), ("from", lambda e: e.client_addr)]


@audit_app.command("list")
def list_(action: Annotated[str | None, typer.Option(help="e.g. alias.set")] = None,
          actor: Annotated[str | None, typer.Option(help="e.g. user:admin")] = None,
          object_type: Annotated[str | None, typer.Option(help="e.g. model_version")] = None,
          limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False, org: OrgOpt = None,
          json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Who did what in the organization, newest first (maintainers and owners)."""
    filters = {"action": action, "actor": actor, "object_type": object_type}
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if all_pages:
            page: Page[AuditEntryRead] = whole_page(client.audit.iter(owner, limit=limit, **filters))
        else:
            page = client.audit.list(owner, limit=limit, cursor=cursor, **filters)
    print_page(page, AUDIT_COLUMNS, as_json=json_out, empty="No audit entries match.")


@audit_app.command("verify")
def verify(json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Check the whole hash chain; exit 1 if any entry was altered, removed or reordered."""
    with connect(url, api_key) as client:
        result = client.audit.verify()
    if json_out:
        print_json(result)
    elif result.ok:
        stderr().print(f"[green]Audit chain intact[/green]: {result.entries_checked} entries checked.")
    else:
        stderr().print(f"[red bold]Audit chain broken[/red bold] at entry {result.first_bad_seq}: {result.reason} "
                       f"({result.entries_checked} entries checked).")
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
