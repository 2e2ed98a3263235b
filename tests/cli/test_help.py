"""The command tree and its help texts (in process: no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from limelight.cli.main import app

GROUPS = {
    "orgs": {"create", "list", "quota"}, "users": {"create"}, "members": {"add", "list", "remove"},
    "keys": {"create", "list", "revoke"}, "datasets": {"upload", "import-movielens", "list", "show", "download", "delete"},
    "jobs": {"submit", "list", "show", "logs", "cancel", "retry", "wait"}, "recipes": {"list"},
    "models": {"create", "update", "list", "show", "versions", "upload", "alias", "unalias", "fork", "search", "star",
               "unstar"},
    "deployments": {"set", "show", "delete"}, "audit": {"list", "verify"},
}
SUBGROUPS = {("orgs", "quota"): {"show", "set"}}
COMMANDS = {"login", "logout", "whoami", "predict", "recommend"}


def _root() -> Any:
    """The click group Typer builds (Typer vendors its own click, so no isinstance against `click`)."""
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    return root


def test_the_command_tree_is_complete() -> None:
    root = _root()
    assert set(GROUPS) | COMMANDS <= set(root.commands)
    for name, subcommands in GROUPS.items():
        assert set(root.commands[name].commands) == subcommands, name
    for (group, name), subcommands in SUBGROUPS.items():
        assert set(root.commands[group].commands[name].commands) == subcommands, f"{group} {name}"


def _leaves() -> list[tuple[str, Any]]:
    root = _root()
    leaves = [(name, root.commands[name]) for name in sorted(COMMANDS)]
    for name in GROUPS:
        leaves += [(f"{name} {sub}", command) for sub, command in root.commands[name].commands.items()
                   if (name, sub) not in SUBGROUPS]
    for group, name in SUBGROUPS:
        leaves += [(f"{group} {name} {sub}", command)
                   for sub, command in root.commands[group].commands[name].commands.items()]
    return leaves


@pytest.mark.parametrize(("path", "command"), _leaves(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help_and_connection_options(path: str, command: Any) -> None:
    assert command.help and len(command.help) > 15, path
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if path != "logout":  # logout only uses what `login --save` stored
        assert "--url" in options, path
    if path.split()[-1] in {"list", "show", "versions", "search"} or path == "whoami":
        assert "--json" in options, path
    assert "[" not in command.help, f"{path}: Rich would read [..] in the help as markup and drop it"
    for param in command.params:
        if param.param_type_name == "option" and not param.hidden and param.name != "help":
            assert param.help, f"{path} {param.opts} has no help"
        assert "[" not in (getattr(param, "help", None) or ""), f"{path} {param.opts}: [..] is eaten as markup"


def test_defaults_written_in_help_survive_rendering() -> None:
    result = CliRunner().invoke(app, ["login", "--help"], env={"COLUMNS": "200"})
    assert "(default: read, predict, write)" in result.output and "(default: your first)" in result.output


def test_help_renders_for_each_group() -> None:
    runner = CliRunner()
    for name, subcommands in GROUPS.items():
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert all(sub in result.output for sub in subcommands), name
