"""The runnable examples of the user guide and the README: found in the Markdown, run as a user would.

The rules (the guide's writers follow them; `test_guide_examples.py` enforces them):

* Only fenced blocks tagged ``bash`` or ``python`` run; ``text``, ``json``, ``toml``, ``yaml`` … are shown.
* ``<!-- not-run: reason -->`` on the line above a fence skips that block (a reason is required).
* ``<!-- expect-error: code -->`` on the line above a fence: the block demonstrates a mistake. Its
  exit status is ignored and its output must contain that error code.
* A page's blocks run in order in one fresh working directory (files carry over, shell variables
  do not); every bash block is its own ``bash -e -o pipefail`` process, every python block its own
  script run by this interpreter (the project's venv, so ``limelight`` and the SDK are there).
* Environment: ``KEY`` and ``LIMELIGHT_API_KEY`` hold the demo's API key, ``LIMELIGHT_URL`` the
  server. ``http://127.0.0.1:8000`` and ``127.0.0.1:8001`` (gRPC) in a block are rewritten to the
  live server's addresses, and the placeholder ``ll_...`` to the key.
* ``curl`` fails the block on an HTTP error status (``--fail-with-body``), except in an
  expect-error block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
RUNNABLE = {"bash", "python"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
_DIRECTIVE = re.compile(r"<!--\s*(?P<kind>not-run|expect-error)\s*:\s*(?P<value>[^>]*?)\s*-->\s*$")
_CURL_FAILS_ON_ERRORS = 'curl() { command curl --fail-with-body "$@"; }\n'


@dataclass(frozen=True)
class Example:
    source: str  # "docs/concepts.md", "README.md#Quickstart"
    line: int
    lang: str
    code: str
    not_run: str | None = None
    expect_error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def nav_pages() -> list[str]:
    """The guide's pages in the order of mkdocs.yml's nav (paths under docs/)."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def walk(items: list[Any]) -> list[str]:
        pages: list[str] = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            pages += walk(value) if isinstance(value, list) else [value]
        return pages

    return walk(config["nav"])


def examples_in(markdown: str, source: str) -> list[Example]:
    found = []
    for match in _FENCE.finditer(markdown):
        lang = match["lang"].lower()
        if lang not in RUNNABLE:
            continue
        before = markdown[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        directive = _DIRECTIVE.search(before)
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["body"].splitlines())
        kind, value = (directive["kind"], directive["value"]) if directive else (None, None)
        found.append(Example(source, markdown.count("\n", 0, match.start()) + 1, lang, code,
                             not_run=value if kind == "not-run" else None,
                             expect_error=value if kind == "expect-error" else None))
    return found


def page_examples(page: str) -> list[Example]:
    return examples_in((DOCS / page).read_text(), f"docs/{page}")


def readme_section_examples(heading: str) -> list[Example]:
    text = README.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return examples_in(text[start:end if end > 0 else None], f"README.md#{heading}")


@dataclass(frozen=True)
class Target:
    """Where examples run: the server, its gRPC address and the key the demo printed."""
    url: str
    grpc: str
    key: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    output: str


def run_example(example: Example, target: Target, cwd: Path, timeout_s: float = 300) -> Outcome:
    code = (example.code.replace("http://127.0.0.1:8000", target.url)
            .replace("127.0.0.1:8001", target.grpc).replace("ll_...", target.key))
    env = {**os.environ, "KEY": target.key, "LIMELIGHT_API_KEY": target.key, "LIMELIGHT_URL": target.url,
           "LIMELIGHT_CONFIG_DIR": str(cwd / ".limelight-config"), "HF_HUB_OFFLINE": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("LIMELIGHT_ORG", None)
    if example.lang == "bash":
        prelude = "" if example.expect_error else _CURL_FAILS_ON_ERRORS
        command = ["bash", "-e", "-o", "pipefail", "-c", prelude + code]
    else:
        script = cwd / f"example_{example.line}.py"
        script.write_text(code)
        command = [sys.executable, str(script)]
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        partial = "".join(part.decode(errors="replace") if isinstance(part, bytes) else part
                          for part in (exc.stdout or "", exc.stderr or ""))
        return Outcome(False, f"timed out after {timeout_s:g} s\n{partial}")
    output = done.stdout + done.stderr
    if example.expect_error:
        return Outcome(example.expect_error in output, output)
    return Outcome(done.returncode == 0, output)
