"""Every curl example in the README runs as written (only the address, org and key are this test's)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


TEXT_SECTION = "## Text: classifiers, embeddings and search"  # its examples run in tests/text
BEHAVIOUR_SECTION = "## Behaviour prediction (churn)"  # its examples run in tests/behaviour
TABULAR_SECTION = "## Tabular prediction (`classify/lightgbm`)"  # its examples run in tests/api
IMAGES_SECTION = "## Image datasets"  # its upload example runs in tests/datasets_images
IMAGE_SECTION = "## Image classification"  # its examples run in tests/vision
# These need a local LLM, a help centre or a fine-tuning job, not a recommender tenant; the same calls
# run in tests/generation and tests/assistant.
OTHER_TENANTS = frozenset({"## Prompt templates and melodies", "## Support assistant: answers from your own documents",
                           "## Fine-tuning the LLM on your texts (`generate/lora`)"})


def readme_sections() -> dict[str, str]:
    """The README split at its ``## `` headings (the part before the first is under "")."""
    parts = re.split(r"^(## .*)$", README.read_text(), flags=re.M)
    return {"": parts[0], **{parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}}


def readme_curl_commands(section: str | None = None) -> list[str]:
    """The curl commands of the README's bash blocks (of one section, else of every section but the
    text and generation ones), continuation lines joined."""
    sections = readme_sections()
    skipped = OTHER_TENANTS | {TEXT_SECTION, BEHAVIOUR_SECTION, TABULAR_SECTION, IMAGES_SECTION, IMAGE_SECTION}
    text = sections[section] if section else "".join(v for k, v in sections.items() if k not in skipped)
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]
    return commands


def run_curl(command: str, url: str, org: str, key: str, timeout_s: float = 120) -> tuple[int, dict]:  # type: ignore[type-arg]
    """A README curl command run against this test's server, org and key: (HTTP status, JSON body)."""
    ours = command.replace("http://127.0.0.1:8000", url).replace("/demo/", f"/{org}/")
    args = [arg.replace("$KEY", key) for arg in shlex.split(ours)]
    done = subprocess.run([*args, "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=timeout_s,
                          check=False)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else {}  # {}: the body went to a file (-o)


def test_the_readme_has_curl_examples():
    commands = readme_curl_commands()
    assert len(commands) >= 3
    assert any("/api/v1/" in c for c in commands) and any("/v1/models/" in c for c in commands)


def test_every_readme_curl_example_runs_as_written(recsys_tenant):
    org, url = recsys_tenant.org, recsys_tenant.server.url
    for command in readme_curl_commands():
        if "https://" in command:
            continue  # the TLS examples run against a server with the dev certificate, below
        status, body = run_curl(command, url, org, recsys_tenant.key, timeout_s=60)
        assert status == 200, f"{command}\n-> {status} {body}"
        assert isinstance(body, dict)


def test_the_readme_tls_examples_run_against_a_dev_cert_server(tmp_path):
    """`limelight dev-cert` then `serve --ssl-*` as the README's TLS section says; its curl runs."""
    from tests.support.live_server import run_cli, server_env, start_live_server

    commands = [c for c in readme_curl_commands() if "https://" in c]
    assert commands
    home = tmp_path / "home"
    run_cli(server_env(home, f"sqlite:///{tmp_path / 'unused.db'}"), "dev-cert", "--out", str(home / "tls"))
    cert, key = home / "tls" / "cert.pem", home / "tls" / "key.pem"
    live = start_live_server(home, f"sqlite:///{tmp_path / 'meta.db'}", tls_cert=cert,
                             serve_args=("--ssl-certfile", str(cert), "--ssl-keyfile", str(key)))
    try:
        for command in commands:
            ours = command.replace("https://127.0.0.1:8000", live.url).replace(".limelight/tls/cert.pem", str(cert))
            done = subprocess.run([*shlex.split(ours), "-w", "\n%{http_code}"], capture_output=True, text=True,
                                  timeout=60, check=False)
            body, _, status = done.stdout.rpartition("\n")
            assert status == "200", f"{command}\n-> {status} {body} {done.stderr}"
    finally:
        live.stop()
