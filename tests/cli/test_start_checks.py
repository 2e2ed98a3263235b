"""A database that cannot be reached at start is one clear line naming the setting (password hidden),
for the API and for a job worker, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens there


@pytest.mark.parametrize("command", [["serve", "--port", "9"], ["worker"]])
def test_an_unreachable_postgresql_is_refused_in_one_line(command, tmp_path):
    url = f"postgresql+psycopg://limelight:hunter2-secret@127.0.0.1:{_closed_port()}/nowhere"
    env = {**os.environ, "LIMELIGHT_HOME": str(tmp_path), "COLUMNS": "300", "LIMELIGHT_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "limelight.cli.main", *command], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "refusing to start" in output
    assert "LIMELIGHT_DATABASE_URL" in output and "Connection refused" in output
    assert "hunter2-secret" not in output and "limelight:***@" in output
