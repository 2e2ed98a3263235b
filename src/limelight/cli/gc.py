"""``limelight gc``: one garbage-collection pass against the configured database and store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from limelight.cli.output import stderr, stdout


def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be removed; remove nothing")] = False,
    grace_s: Annotated[float | None, typer.Option("--grace-s", min=0,
                       help="only collect what is older than this many seconds (default: gc.grace_s)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list every entry, not only the totals")] = False,
) -> None:
    """Remove abandoned uploads, blobs no version references, dead workers' files and stale caches.

    Safe while the server runs: only what is older than the grace period is touched.
    """
    from pathlib import Path

    from limelight.artifacts.registry import open_store
    from limelight.cli.server_settings import load_settings_or_exit
    from limelight.db.session import open_database
    from limelight.jobs.liveness import readiness_window_s
    from limelight.maintenance.collector import collect

    settings = load_settings_or_exit()
    db = open_database(settings.database_url)
    try:
        report = collect(db, open_store(settings.artifacts_url), Path(settings.home),
                         grace_s=settings.gc.grace_s if grace_s is None else grace_s, dry_run=dry_run,
                         beat_window_s=readiness_window_s(settings.worker.heartbeat_s))
    finally:
        db.dispose()
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    table = Table(title=f"garbage collection (grace {report.grace_s:g} s{', dry run' if dry_run else ''})")
    table.add_column("category")
    table.add_column(verb, justify="right")
    table.add_column("bytes", justify="right")
    for name, category in report.categories.items():
        table.add_row(name, str(category.removed), f"{category.bytes:,}")
    table.add_row("total", str(report.removed), f"{report.bytes:,}", style="bold")
    stdout().print(table)
    if verbose:
        for name, category in report.categories.items():
            for item in category.items:
                stdout().print(f"{name}\t{escape(item)}")
    if dry_run and report.removed:
        stderr().print("dry run: nothing was removed")
