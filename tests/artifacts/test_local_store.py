"""What only the local backend can show: on-disk layout, file modes, a real kill -9, gc by age."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import limelight.artifacts
from limelight.artifacts import LocalArtifactStore
from limelight.errors import InvalidParams

SRC_DIR = Path(limelight.artifacts.__file__).resolve().parents[2]


def modes_under(root: Path) -> dict[str, int]:
    found = {str(root): stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            found[str(path)] = stat.S_IMODE(path.lstat().st_mode)
    return found


def backdate(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


def test_layout_is_content_addressed_and_read_only(local_store: LocalArtifactStore) -> None:
    ref = local_store.write_stream([b"hello"], max_bytes=5)
    expected = local_store.root / "blobs" / "sha256" / ref.sha256[:2] / ref.sha256[2:]
    assert local_store.local_path(ref.sha256) == expected
    assert stat.S_IMODE(expected.stat().st_mode) == 0o400


def test_every_path_is_private_even_with_umask_zero(tmp_path: Path) -> None:
    during_write: dict[str, int] = {}
    previous = os.umask(0)
    try:
        store = LocalArtifactStore(tmp_path / "store")

        def chunks() -> Iterator[bytes]:
            yield b"first"
            during_write.update(modes_under(store.root / "staging"))
            yield b"second"

        store.write_stream(chunks(), max_bytes=100)
        with store.stage() as staged:
            staged_file_mode = stat.S_IMODE(staged.path.stat().st_mode)
            during_write.update(modes_under(staged.path.parent))
            staged.path.unlink()
            staged.path.write_bytes(b"recreated by a careless producer")  # 0o666 under umask 0 …
            during_write.update(modes_under(store.root / "staging"))
            staged.commit()
    finally:
        os.umask(previous)
    assert any(".part" in path for path in during_write)  # the temp file was really observed
    assert staged_file_mode == 0o600
    # … but it sits in a 0o700 directory, which is what keeps other users out.
    loose = {p: oct(m) for p, m in during_write.items() if m & 0o077 and not p.endswith("/blob")}
    assert loose == {}
    assert {p: oct(m) for p, m in modes_under(store.root).items() if m & 0o077} == {}


def test_existing_group_readable_subdirectories_are_tightened(tmp_path: Path) -> None:
    (tmp_path / "store" / "staging").mkdir(parents=True, mode=0o755)
    (tmp_path / "store" / "staging").chmod(0o755)
    store = LocalArtifactStore(tmp_path / "store")
    assert stat.S_IMODE((store.root / "staging").stat().st_mode) == 0o700


def test_kill_9_mid_upload_leaves_no_blob_and_gc_clears_the_temp_file(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = f"""
import sys
from pathlib import Path
from limelight.artifacts import LocalArtifactStore
store = LocalArtifactStore(Path({str(root)!r}))
def chunks():
    yield b"a" * 65536
    print("streaming", flush=True)
    sys.stdin.readline()  # hold the write open until the parent kills us
    yield b"b"
store.write_stream(chunks(), max_bytes=10**9)
print("committed", flush=True)
"""
    env = {**os.environ, "PYTHONPATH": str(SRC_DIR)}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"streaming\n"
    proc.kill()
    proc.wait(timeout=10)
    store = LocalArtifactStore(root)
    assert list(store.list_refs()) == []
    leftovers = list((root / "staging").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".part")
    assert store.gc(set(), older_than_s=3600).staging_removed == 0  # too young: might be alive
    assert store.gc(set(), older_than_s=-1).staging_removed == 1
    assert list((root / "staging").iterdir()) == []


def test_rewriting_a_blob_refreshes_its_age_so_gc_spares_it(local_store: LocalArtifactStore) -> None:
    kept = local_store.write_stream([b"uploaded again just now"], max_bytes=100)
    reaped = local_store.write_stream([b"truly abandoned"], max_bytes=100)
    backdate(local_store.local_path(kept.sha256), 7200)
    backdate(local_store.local_path(reaped.sha256), 7200)
    assert local_store.write_stream([b"uploaded again just now"], max_bytes=100) == kept
    report = local_store.gc(set(), older_than_s=3600)
    assert report.blobs_removed == 1 and report.bytes_freed == reaped.size_bytes
    assert local_store.exists(kept.sha256) and not local_store.exists(reaped.sha256)


def test_gc_removes_stale_staging_dirs_but_not_live_ones(local_store: LocalArtifactStore) -> None:
    staging = local_store.root / "staging"
    stale, live = staging / "stage-crashed", staging / "stage-running"
    for directory in (stale, live):
        directory.mkdir(mode=0o700)
        (directory / "blob").write_bytes(b"partial")
        backdate(directory, 7200)
    backdate(stale / "blob", 7200)  # the live one's file was written to just now
    assert local_store.gc(set(), older_than_s=3600).staging_removed == 1
    assert not stale.exists() and live.exists()


def test_a_corrupted_blob_is_repaired_by_writing_it_again(local_store: LocalArtifactStore) -> None:
    ref = local_store.write_stream([b"precious model bytes"], max_bytes=100)
    path = local_store.local_path(ref.sha256)
    path.chmod(0o600)
    path.write_bytes(b"bit rot")
    assert local_store.verify(ref.sha256) is False
    assert local_store.write_stream([b"precious model bytes"], max_bytes=100) == ref
    assert local_store.verify(ref.sha256) is True


def test_stage_commit_refuses_a_symlink_to_an_outside_file(
    local_store: LocalArtifactStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not yours")
    with local_store.stage() as staged:
        staged.path.unlink()
        staged.path.symlink_to(secret)
        with pytest.raises(InvalidParams):
            staged.commit()
    assert list(local_store.list_refs()) == [] and secret.read_bytes() == b"not yours"
    assert not local_store.exists(hashlib.sha256(b"not yours").hexdigest())


def test_stage_commit_refuses_a_directory(local_store: LocalArtifactStore) -> None:
    with local_store.stage() as staged:
        staged.path.unlink()
        staged.path.mkdir()
        with pytest.raises(InvalidParams):
            staged.commit()
    assert list((local_store.root / "staging").iterdir()) == []


def test_stray_files_in_the_blob_tree_are_ignored(local_store: LocalArtifactStore) -> None:
    ref = local_store.write_stream([b"real"], max_bytes=10)
    shard = local_store.local_path(ref.sha256).parent
    (shard / "not-a-digest").write_bytes(b"junk")
    (local_store.root / "blobs" / "sha256" / "README").write_bytes(b"junk")
    assert list(local_store.list_refs()) == [ref]


def test_relative_root_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalArtifactStore(Path("relative-store"))
    assert store.root == (tmp_path / "relative-store").resolve() and store.root.is_absolute()


def test_a_blob_reused_between_gcs_look_and_its_removal_is_put_back(local_store: LocalArtifactStore) -> None:
    ref = local_store.write_stream([b"stored again meanwhile"], max_bytes=100)
    backdate(local_store.local_path(ref.sha256), 7200)
    judged_at = time.time() - 3600  # gc found it old against this cutoff …
    assert local_store.write_stream([b"stored again meanwhile"], max_bytes=100) == ref  # … then a writer re-used it
    assert local_store._reap(ref.sha256, judged_at) is False
    assert local_store.verify(ref.sha256) and list((local_store.root / "staging").iterdir()) == []
    backdate(local_store.local_path(ref.sha256), 7200)
    assert local_store._reap(ref.sha256, judged_at) is True
    assert not local_store.exists(ref.sha256) and list((local_store.root / "staging").iterdir()) == []
