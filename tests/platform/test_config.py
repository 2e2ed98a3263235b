"""Settings are typed, validated at start, and refuse unsafe choices outside dev mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from limelight.config import Settings


def test_embedded_defaults_live_under_the_home_folder(tmp_path):
    settings = Settings(home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path}/limelight.db"
    assert settings.artifacts_url == (tmp_path / "artifacts").resolve().as_uri()
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8000


def test_environment_and_nested_sections(monkeypatch, tmp_path):
    monkeypatch.setenv("LIMELIGHT_DATABASE_URL", "postgresql+psycopg://db/x")
    monkeypatch.setenv("LIMELIGHT_SERVING__MAX_QUEUE", "17")
    settings = Settings(home=tmp_path)
    assert settings.database_url == "postgresql+psycopg://db/x" and settings.serving.max_queue == 17


def test_config_file_is_read_below_the_environment(monkeypatch, tmp_path):
    config = tmp_path / "limelight.toml"
    config.write_text('[limelight]\nartifacts_url = "file:///srv/a"\n[limelight.server]\nport = 9001\n')
    monkeypatch.setenv("LIMELIGHT_CONFIG_FILE", str(config))
    monkeypatch.setenv("LIMELIGHT_SERVER__PORT", "9002")
    settings = Settings(home=tmp_path)
    assert settings.artifacts_url == "file:///srv/a" and settings.server.port == 9002


def test_production_refuses_a_missing_secret_and_sqlite_with_several_workers(tmp_path):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(home=tmp_path, mode="production")
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(home=tmp_path, mode="production", secret_key="s" * 40, server={"workers": 2})
    ok = Settings(home=tmp_path, mode="production", secret_key="s" * 40, database_url="postgresql+psycopg://h/db")
    assert ok.mode == "production"


def test_nonsense_is_refused_with_the_field_named(tmp_path):
    with pytest.raises(ValidationError, match="port"):
        Settings(home=tmp_path, server={"port": 70000})
    with pytest.raises(ValidationError, match="lease_s"):
        Settings(home=tmp_path, worker={"heartbeat_s": 5, "lease_s": 4})
    with pytest.raises(ValidationError, match="bogus"):
        Settings(home=tmp_path, bogus=1)


def test_a_misspelt_key_inside_a_section_is_refused_not_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("LIMELIGHT_SERVER__PORTT", "9003")
    with pytest.raises(ValidationError, match="server.portt"):
        Settings(home=tmp_path)
    monkeypatch.delenv("LIMELIGHT_SERVER__PORTT")
    config = tmp_path / "limelight.toml"
    config.write_text('[limelight.worker]\nleese_s = 30\n')
    monkeypatch.setenv("LIMELIGHT_CONFIG_FILE", str(config))
    with pytest.raises(ValidationError, match="leese_s"):
        Settings(home=tmp_path)


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["init", "--org", "o", "--username", "u"], ["db", "upgrade"],
                                     ["gc", "--dry-run"]])
def test_every_server_command_names_a_bad_setting_in_one_line_and_exits_2(command, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LIMELIGHT_HOME": str(tmp_path), "LIMELIGHT_SERVER__PORTT": "1"}
    done = subprocess.run([sys.executable, "-m", "limelight.cli.main", *command], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "invalid setting server.portt" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
