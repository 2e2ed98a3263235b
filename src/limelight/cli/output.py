"""How client commands print: data to stdout (Rich tables or ``--json``), everything else to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from limelight.errors import LimelightError
from limelight.schemas.common import Page

M = TypeVar("M", bound=BaseModel)

# Rows are (header, how to read the cell from an item).
Columns = Sequence[tuple[str, Callable[[Any], Any]]]


def stdout() -> Console:
    return Console(highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colours, no wrapping), for scripts and ``jq``."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if hasattr(value, "value"):  # enums
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_table(items: Iterable[Any], columns: Columns, *, title: str | None = None,
                empty: str = "Nothing here yet.") -> None:
    rows = list(items)
    if not rows:
        stderr().print(empty)
        return
    table = Table(title=title, header_style="bold", show_lines=False)
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for item in rows:
        table.add_row(*(escape(cell(read(item))) for _, read in columns))
    stdout().print(table)


def print_record(fields: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """One object as aligned ``name  value`` lines."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, escape(cell(value)))
    console = stdout()
    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    console.print(table)


def print_page(page: Page[M], columns: Columns, *, as_json: bool, title: str | None = None,
               empty: str = "Nothing here yet.") -> None:
    """A list answer: JSON keeps the page shape ({"items", "next_cursor"}); a table says how to go on."""
    if as_json:
        print_json({"items": to_jsonable(page.items), "next_cursor": page.next_cursor})
        return
    print_table(page.items, columns, title=title, empty=empty)
    if page.next_cursor:
        stderr().print(f"More results: --cursor {page.next_cursor} (or --all)")


def whole_page(items: Iterable[M]) -> Page[M]:
    """Every item of an ``iter*`` walk as one page (``--all``)."""
    return Page(items=list(items), next_cursor=None)


def print_error(error: LimelightError) -> None:
    """An API error as the user should see it: code, message, details, request id; no traceback."""
    status = getattr(error, "http_status", None)  # absent when the SDK itself raised (a wait that timed out)
    code = getattr(error, "wire_code", error.code)
    where = f"{code}, HTTP {status}" if status is not None else code
    console = stderr()
    console.print(f"[red bold]Error:[/red bold] {escape(error.message)} [dim]({escape(where)})[/dim]")
    if error.details:
        console.print(f"  details: {escape(json.dumps(error.details, ensure_ascii=False, default=str))}")
    request_id = getattr(error, "request_id", None)
    if request_id:
        console.print(f"  request id: {escape(request_id)}")
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None and status in (429, 503):
        console.print(f"  retry after: {retry_after_s:g} s")


def fail(message: str) -> None:
    stderr().print(f"[red bold]Error:[/red bold] {escape(message)}")


@contextmanager
def upload_progress(file: Path) -> Iterator[Callable[[int, int | None], None]]:
    """A transient Rich bar on stderr for a streamed upload; yields the SDK's ``on_progress``."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=stderr(), transient=True)
    with progress:
        task = progress.add_task(f"uploading {file.name}", total=file.stat().st_size)

        def advance(sent_bytes: int, total_bytes: int | None) -> None:
            done = total_bytes is not None and sent_bytes >= total_bytes
            # once the last byte is out, the server is checking the file: say so instead of a frozen bar
            progress.update(task, completed=sent_bytes, description="checking on the server" if done else None)

        yield advance
