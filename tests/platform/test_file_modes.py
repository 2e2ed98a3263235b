"""A fresh home holds private data: folders 0o700 and files 0o600 whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from limelight.artifacts.registry import open_store
from limelight.config import Settings
from limelight.db.migrate import upgrade
from limelight.db.session import open_database
from limelight.jobs import liveness
from limelight.private_paths import create_private_file, make_private_dirs


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_a_fresh_home_is_private(tmp_path, umask):
    home = tmp_path / "deep" / "home"
    settings = Settings(home=home)
    db = open_database(settings.database_url)
    try:
        upgrade(db)
        with db.transaction() as session:  # a write, so the WAL and shared-memory files exist
            session.connection().exec_driver_sql("CREATE TABLE probe (x INTEGER)")
        database = home / "limelight.db"
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert path.exists(), path
            assert _mode(path) == 0o600, f"{path.name}: {oct(_mode(path))}"
    finally:
        db.dispose()
    settings.session_secret()
    store = open_store(settings.artifacts_url)
    with store.stage(suffix=".bin") as staged:
        staged.path.write_bytes(b"x")
    liveness.beat(home)
    assert _mode(home / "secret_key") == 0o600
    for folder in (tmp_path / "deep", home, home / "artifacts", home / "artifacts" / "staging",
                   home / "artifacts" / "blobs", home / "run"):
        assert _mode(folder) == 0o700, f"{folder}: {oct(_mode(folder))}"


def test_existing_folders_and_files_keep_their_mode(tmp_path, umask):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    make_private_dirs(shared / "a" / "b")
    assert _mode(shared) == 0o755
    assert _mode(shared / "a") == _mode(shared / "a" / "b") == 0o700
    existing = shared / "f"
    existing.write_bytes(b"kept")
    os.chmod(existing, 0o640)
    assert create_private_file(existing) is False
    assert _mode(existing) == 0o640 and existing.read_bytes() == b"kept"
    assert create_private_file(shared / "new") is True
    assert _mode(shared / "new") == 0o600
