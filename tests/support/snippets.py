"""Run a model card's snippets exactly as printed, each in its own process, against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.factories import ok

VENV_BIN = Path(sys.executable).parent


def card_of(tenant: Any, model: str) -> dict[str, Any]:
    with tenant.client() as client:
        return ok(client.get(f"/api/v1/orgs/{tenant.org}/models/{model}/card"))  # type: ignore[no-any-return]


def run_snippets(card: dict[str, Any], key: str, timeout_s: float = 180) -> dict[str, Any]:
    """Each snippet's printed answer by kind: curl and CLI print JSON (parsed here), the SDK a Python
    dict (evaluated), the openai client the text. A snippet that fails fails the test with its stderr."""
    env = {**os.environ, "LIMELIGHT_API_KEY": key, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    answers: dict[str, Any] = {}
    for snippet in card["snippets"]:
        kind = snippet["kind"]
        command = [sys.executable, "-c", snippet["code"]] if kind in ("python", "openai") else \
            ["bash", "-e", "-o", "pipefail", "-c", snippet["code"]]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
        assert done.returncode == 0, f"{kind}: {done.stderr[-2000:]}"
        text = done.stdout.strip()
        assert text, f"{kind} printed nothing"
        if kind in ("curl", "cli"):
            answers[kind] = json.loads(text)
        elif kind == "python":
            answers[kind] = eval(text, {})  # noqa: S307 - the snippet's own print of a plain dict
        else:
            answers[kind] = text
    return answers
