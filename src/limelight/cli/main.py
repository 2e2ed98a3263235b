"""The `limelight` command."""

from __future__ import annotations

import typer

from limelight.cli import server_commands

app = typer.Typer(help="limelight: upload data, train, register, publish and serve models.", no_args_is_help=True)
server_commands.register(app)

from limelight.cli import client_commands  # noqa: E402 - after the server commands, in --help order

client_commands.register(app)

if __name__ == "__main__":
    app()
