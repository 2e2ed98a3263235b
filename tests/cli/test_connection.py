"""Which server and key a command uses (in process: pure settings logic)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from limelight.cli.connection import SavedLogin, load_saved, resolve, save_login, split_ref
from limelight.client import DEFAULT_BASE_URL


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIMELIGHT_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_without_a_saved_login_options_or_defaults_apply(config_dir: Path) -> None:
    assert resolve(None, None) == (DEFAULT_BASE_URL, None)
    assert resolve("http://a:1", "ll_k") == ("http://a:1", "ll_k")


def test_a_saved_login_is_used_whole_and_never_gets_another_key(config_dir: Path) -> None:
    path = save_login(SavedLogin(url="http://saved:8000", api_key="ll_saved", key_id="k1", org="studio"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_saved() == SavedLogin(url="http://saved:8000", api_key="ll_saved", key_id="k1", org="studio")
    assert resolve(None, None) == ("http://saved:8000", "ll_saved")
    assert resolve("http://saved:8000/", None) == ("http://saved:8000", "ll_saved")
    # a key given for the default server must not travel to the saved one
    assert resolve(None, "ll_env") == (DEFAULT_BASE_URL, "ll_env")
    assert resolve("http://other:1", None) == ("http://other:1", None)


def test_a_corrupt_credentials_file_is_ignored(config_dir: Path) -> None:
    config_dir.mkdir()
    (config_dir / "credentials.json").write_text("{not json")
    assert load_saved() is None and resolve(None, None) == (DEFAULT_BASE_URL, None)


def test_model_references() -> None:
    assert split_ref("studio/recs", None) == ("studio", "recs")
    assert split_ref("recs", "acme") == ("acme", "recs")
    assert split_ref("recs", None) == (None, "recs")
