"""The OpenAPI document is complete and valid, and property-based fuzzing of every operation
(schemathesis) never gets a server error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openapi_spec_validator import validate

from tests.support.live_server import start_live_server


def test_openapi_document_is_valid_and_declares_errors(sqlite_server):
    with sqlite_server.anonymous() as anon:
        spec = anon.get("/openapi.json").json()
    validate(spec)
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) > 40
    for path, method, op in operations:
        if path in ("/healthz", "/readyz", "/api/v1/auth/login", "/login", "/v2/health/live", "/v2/health/ready"):
            continue
        assert "401" in op["responses"], f"{method.upper()} {path} does not document 401"
    assert "ErrorBody" in spec["components"]["schemas"]
    verb_body = spec["paths"]["/v1/models/{org}/{name}:{verb}"]["post"]["requestBody"]["content"]
    assert set(verb_body) == {"application/json", "multipart/form-data"}  # curl -F image=@cat.jpg is documented
    assert verb_body["multipart/form-data"]["schema"]["properties"]["image"]["format"] == "binary"


def test_fuzzing_every_operation_finds_no_server_error(tmp_path: Path):
    # A server of its own: the fuzz changes members, keys and orgs as the admin (it may remove the
    # admin from its org), which would pull the ground from under the tests sharing a server.
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0")
    schemathesis = Path(sys.executable).parent / "schemathesis"
    try:
        result = subprocess.run(
            [str(schemathesis), "run", f"{live.url}/openapi.json",
             "-H", f"Authorization: Bearer {live.admin_key}",
             "--checks", "not_a_server_error", "--max-examples", "15", "--seed", "1",
             "--exclude-path-regex", "end-users|/logs$", "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=600,
        )
    finally:
        live.stop()
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "generated" in summary and "failed" not in summary.split("Test cases:")[-1].split("\n")[1]
