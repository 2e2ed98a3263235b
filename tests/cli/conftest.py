"""The CLI runs as a subprocess (`python -m limelight.cli.main`) against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.client.tenants import SdkTenant, new_sdk_tenant
from tests.support.live_server import LiveServer


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    tenant: SdkTenant
    config_dir: Path

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
        env.update({"LIMELIGHT_URL": self.tenant.url, "LIMELIGHT_API_KEY": self.tenant.key,
                    "LIMELIGHT_CONFIG_DIR": str(self.config_dir), "COLUMNS": "200", "NO_COLOR": "1",
                    "TERM": "dumb"})
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def __call__(self, *args: str, expect: int = 0, stdin: str | None = None, **env: str | None) -> Result:
        done = subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=self.env(**env), text=True,
                              input=stdin, capture_output=True, timeout=120, check=False)
        result = Result(done.returncode, done.stdout, done.stderr)
        assert result.code == expect, f"limelight {' '.join(args)} exited {result.code}:\n{result.out}\n{result.err}"
        assert "Traceback" not in result.err, result.err
        return result


@pytest.fixture(scope="module")
def tenant(sqlite_server: LiveServer) -> SdkTenant:
    return new_sdk_tenant(sqlite_server, prefix="cli")


@pytest.fixture
def cli(tenant: SdkTenant, tmp_path: Path) -> Cli:
    return Cli(tenant, tmp_path / "config")
