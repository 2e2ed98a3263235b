"""The settings of the commands that run on the server machine, or one line per bad setting."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from limelight.config import Settings, load_settings


def load_settings_or_exit() -> Settings:
    """The validated settings, or one red line per bad setting and exit status 2 (never a traceback)."""
    try:
        return load_settings()
    except ValidationError as exc:
        console = Console(stderr=True)
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            console.print(f"[red]invalid setting {escape(where)}: {escape(error['msg'])}[/red]")
        raise typer.Exit(2) from None
