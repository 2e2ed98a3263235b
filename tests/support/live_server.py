"""Start a real limelight server process on 127.0.0.1 for HTTP tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ADMIN_PASSWORD = "correct-horse-battery-staple"
METRICS_TOKEN = "scrape-token-for-tests-only-0123456789"  # the operator's /metrics credential


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    admin_key: str
    org: str = "studio"
    admin_user: str = "admin"
    grpc_port: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    verify: str | bool = True  # for HTTPS: the certificate file to trust

    def client(self, key: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.admin_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, verify=self.verify,  # type: ignore[arg-type]
                            **kwargs)

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, verify=self.verify)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def scrape(self) -> str:
        """``/metrics`` as the operator's Prometheus sees it (the scrape token, no API key)."""
        response = httpx.get(f"{self.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
        assert response.status_code == 200, response.text
        return response.text

    def log_text(self) -> str:
        path = self.home / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def server_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "LIMELIGHT_HOME": str(home),
        "LIMELIGHT_DATABASE_URL": database_url,
        "LIMELIGHT_ARTIFACTS_URL": (home / "artifacts").as_uri(),
        "LIMELIGHT_WORKER__HEARTBEAT_S": "0.6",
        "LIMELIGHT_WORKER__LEASE_S": "1.8",
        "LIMELIGHT_WORKER__POLL_S": "0.1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "LIMELIGHT_SERVER__METRICS_TOKEN": METRICS_TOKEN,
        "LIMELIGHT_MONITORING__FLUSH_INTERVAL_S": "0.2",  # rollups reach the store at once
        "LIMELIGHT_WORKER__EXPERIMENT_CHECK_S": "0.5",  # auto-decided experiments act within a second
        # every test signs in from 127.0.0.1, some on purpose with wrong passwords: the shared
        # servers must not lock that address for the rest of the run (tests/api/test_login_throttle.py
        # tests address throttling on servers of its own)
        "LIMELIGHT_LIMITS__LOGIN_FREE_FAILURES_PER_ADDRESS": "100000",
    })
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "limelight.cli.main", *args], env=env, text=True,
                          capture_output=True, check=check, timeout=300)


def start_live_server(home: Path, database_url: str, *, init: bool = True, serve_args: tuple[str, ...] = (),
                      tls_cert: Path | None = None, ready_timeout_s: float = 60, **extra_env: str) -> LiveServer:
    """``serve_args`` are added to `limelight serve`; with ``tls_cert`` the server is called over HTTPS,
    trusting that certificate."""
    port = free_port()
    grpc_port = free_port()
    env = server_env(home, database_url, LIMELIGHT_SERVER__GRPC_PORT=str(grpc_port), **extra_env)
    run_cli(env, "db", "upgrade")
    key = ""
    if init:
        out = run_cli(env, "init", "--org", "studio", "--username", "admin", "--password", ADMIN_PASSWORD,
                      "--quiet")
        key = out.stdout.strip().splitlines()[-1]
    log = open(home / "server.log", "ab")  # noqa: SIM115 - the child process owns it
    process = subprocess.Popen(
        [sys.executable, "-m", "limelight.cli.main", "serve", "--port", str(port), *serve_args],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"{'https' if tls_cert else 'http'}://127.0.0.1:{port}"
    live = LiveServer(url=url, home=home, env=env, process=process, admin_key=key, grpc_port=grpc_port,
                      verify=str(tls_cert) if tls_cert else True)
    _wait_ready(live, ready_timeout_s)
    return live


def _wait_ready(live: LiveServer, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if live.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{live.log_text()[-4000:]}")
        try:
            if httpx.get(f"{live.url}/readyz", timeout=1, verify=live.verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    live.stop()
    raise RuntimeError(f"server not ready in {timeout_s}s:\n{live.log_text()[-4000:]}")
