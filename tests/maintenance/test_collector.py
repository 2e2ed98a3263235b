"""The collector's rules on a migrated database (SQLite and PostgreSQL) and a real local store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from limelight.artifacts import LocalArtifactStore
from limelight.maintenance.collector import collect
from limelight.runtimes.sentence_embedding import stale_cache_entries

OLD = time.time() - 7200


def _age(path: Path) -> None:
    os.utime(path, (OLD, OLD), follow_symlinks=False)


def _weights_dir(cache: Path, name: str, blob: Path) -> Path:
    model_dir = cache / "models" / name
    model_dir.mkdir(parents=True)
    (model_dir / "config.json").write_text("{}")
    (model_dir / "model.safetensors").symlink_to(blob)
    for path in (model_dir / "config.json", model_dir / "model.safetensors", model_dir):
        _age(path)
    return model_dir


def test_unreferenced_blobs_staging_dead_beats_and_orphaned_caches_go(database, tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = LocalArtifactStore(home / "artifacts")
    orphan = store.write_stream([b"no row refers to me"], max_bytes=100)
    _age(store.local_path(orphan.sha256))
    with store.stage() as staged:  # a producer's leftovers, as a SIGKILL would leave them
        staged.path.write_bytes(b"half")
        leftover = staged.path.parent
        os.rename(leftover, leftover.with_name("stage-killed"))
    _age(store.root / "staging" / "stage-killed" / "blob")
    _age(store.root / "staging" / "stage-killed")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(10)
    (home / "run").mkdir()
    (home / "run" / f"worker-{dead.pid}.beat").touch()
    (home / "run" / f"worker-{os.getpid()}.beat").touch()  # a running worker's fresh beat
    exports = home / "cache" / "serving" / "exports"
    _weights_dir(exports, "all-minilm-l6-v2-gone", store.local_path(orphan.sha256))

    dry = collect(database, store, home, grace_s=3600, dry_run=True, beat_window_s=20)
    assert {k: v.removed for k, v in dry.categories.items()} == {"staging": 1, "blobs": 1, "heartbeats": 1,
                                                                 "caches": 0}
    assert store.exists(orphan.sha256) and (home / "run" / f"worker-{dead.pid}.beat").exists()

    report = collect(database, store, home, grace_s=3600, beat_window_s=20)
    assert report.categories["blobs"].items == [orphan.sha256] and not store.exists(orphan.sha256)
    assert report.categories["staging"].items == ["stage-killed"] and report.categories["staging"].bytes == 4
    assert report.categories["heartbeats"].items == [f"run/worker-{dead.pid}.beat"]
    assert (home / "run" / f"worker-{os.getpid()}.beat").exists()
    # Blobs go first, so the model directory whose weights link now dangles goes in the same pass.
    assert report.categories["caches"].items == ["cache/serving/exports/models/all-minilm-l6-v2-gone"]
    assert not (exports / "models").exists() or not any((exports / "models").iterdir())
    assert collect(database, store, home, grace_s=3600, beat_window_s=20).removed == 0


def test_young_garbage_and_live_caches_stay(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    live = store.write_stream([b"weights"], max_bytes=100)
    cache = tmp_path / "cache"
    model_dir = _weights_dir(cache, "base-live", store.local_path(live.sha256))
    from limelight.runtimes.base import LoadContext
    from limelight.runtimes.sentence_embedding import _onnx_export_path

    export = _onnx_export_path(model_dir, LoadContext(cache_dir=cache))
    export.write_bytes(b"onnx")
    stale_export = cache / "sentence-embedding-000000000000000000000000.onnx"
    stale_export.write_bytes(b"old onnx")
    building = cache / "models" / ".base-x.123.456"
    building.mkdir()
    for path in (export, stale_export, building):
        _age(path)
    assert stale_cache_entries(cache, cutoff=time.time() - 3600) == [building, stale_export]
    assert stale_cache_entries(cache, cutoff=OLD - 1) == []  # nothing is older than that
