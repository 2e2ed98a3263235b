"""Where client commands connect, with which key, in which org; and the one place API errors end a command.

Precedence: ``--url``/``--api-key``/``--org`` options, then ``LIMELIGHT_URL``/``LIMELIGHT_API_KEY``/
``LIMELIGHT_ORG``, then what ``limelight login --save`` stored (only if the user asked), then the
defaults (``http://127.0.0.1:8000``; the API key's own org).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from limelight.cli.output import fail, print_error
from limelight.client import DEFAULT_BASE_URL, Client
from limelight.errors import LimelightError

PANEL = "Connection"

UrlOpt = Annotated[str | None, typer.Option(
    "--url", envvar="LIMELIGHT_URL", show_envvar=True, rich_help_panel=PANEL,
    help=f"limelight server (default: {DEFAULT_BASE_URL})")]
ApiKeyOpt = Annotated[str | None, typer.Option(
    "--api-key", envvar="LIMELIGHT_API_KEY", show_envvar=True, rich_help_panel=PANEL,
    help="API key (avoid typing it on shared machines: prefer the environment variable)")]
OrgOpt = Annotated[str | None, typer.Option(
    "--org", "-o", envvar="LIMELIGHT_ORG", show_envvar=True,
    help="organization (default: the API key's org)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=500, help="page size")]
CursorOpt = Annotated[str | None, typer.Option("--cursor", help="next_cursor of the previous page")]
AllOpt = Annotated[bool, typer.Option("--all", help="follow every page")]


@dataclass(frozen=True)
class SavedLogin:
    url: str
    api_key: str
    key_id: str | None = None
    org: str | None = None
    username: str | None = None


def credentials_path() -> Path:
    base = os.environ.get("LIMELIGHT_CONFIG_DIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "limelight")
    return Path(base) / "credentials.json"


def load_saved() -> SavedLogin | None:
    path = credentials_path()
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        return SavedLogin(url=str(raw["url"]), api_key=str(raw["api_key"]), key_id=raw.get("key_id"),
                          org=raw.get("org"), username=raw.get("username"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save_login(login: SavedLogin) -> Path:
    """Written 0600 from the first byte: the file holds a secret."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(login.__dict__, handle, indent=2)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


def resolve(url: str | None, api_key: str | None) -> tuple[str, str | None]:
    """(url, key). The saved login is used only as a whole, when no key was given and the URL is
    unset or its own: a key given for one server is never sent to the saved one."""
    saved = load_saved()
    if api_key is None and saved is not None and (url is None or url.rstrip("/") == saved.url.rstrip("/")):
        return saved.url, saved.api_key
    return (url or DEFAULT_BASE_URL), api_key


@contextmanager
def api_errors(base_url: str) -> Iterator[None]:
    """An API or network error prints cleanly (no traceback) and exits with status 1."""
    try:
        yield
    except LimelightError as exc:
        print_error(exc)
        raise typer.Exit(1) from exc
    except httpx.TimeoutException as exc:
        fail(f"{base_url} did not answer in time ({type(exc).__name__}).")
        raise typer.Exit(1) from exc
    except httpx.HTTPError as exc:
        fail(f"Cannot reach limelight at {base_url}: {exc}")
        raise typer.Exit(1) from exc


@contextmanager
def connect(url: str | None, api_key: str | None) -> Iterator[Client]:
    """A client for one command, inside `api_errors`."""
    base_url, key = resolve(url, api_key)
    with api_errors(base_url), Client(base_url, key) as client:
        yield client


def org_of(client: Client, org: str | None) -> str:
    """The org named by option or environment, else the one of the saved login, else the key's own."""
    if org:
        return org
    saved = load_saved()
    if saved is not None and saved.org and saved.api_key == client.api_key:
        return saved.org
    return client.whoami().org


def split_ref(ref: str, org: str | None) -> tuple[str | None, str]:
    """``org/name`` or ``name`` (org from ``--org``/the key); returns (org or None, name)."""
    if "/" in ref:
        owner, _, name = ref.partition("/")
        return owner, name
    return org, ref
