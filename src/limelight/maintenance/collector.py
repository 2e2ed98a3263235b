"""The garbage collector: removes what nothing references and nothing is writing.

Four categories, each judged by age against a grace period so that work in flight survives:

* ``staging``: the artifact store's abandoned writes (an upload whose connection dropped while its
  process died, a producer killed mid-write). A live writer's entry is never taken, however old:
  the store's writers hold a lock on it that only their exit releases;
* ``blobs``: blobs no model version or dataset version of any org refers to. The references are
  read *before* the blobs are listed, and a blob is only taken when older than the grace period: a
  blob renamed into place whose row is not committed yet is young, and storing bytes that are
  already stored refreshes the blob's age, so a blob about to be referenced again is young too;
* ``heartbeats``: liveness files of workers that are gone;
* ``caches``: derived serving files (model directories, ONNX exports) whose source blob is gone.

Safe while uploads, jobs and serving go on, and safe to run from several processes at once without
a lock: every removal tolerates the file having gone already, and nothing is removed that a
concurrent writer could still be filling (it holds the entry's lock) or about to reference (its
mtime is within the grace period).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from limelight.artifacts.store import ArtifactStore
from limelight.db.session import Database
from limelight.jobs.liveness import readiness_window_s, stale_beats
from limelight.maintenance.references import referenced_blobs
from limelight.runtimes.sentence_embedding import stale_cache_entries
from limelight.serving.loading import serving_cache_dir

if TYPE_CHECKING:
    from limelight.server.state import AppState

__all__ = ["CATEGORIES", "Category", "CollectionReport", "collect", "collect_forever"]

log = logging.getLogger(__name__)

CATEGORIES = ("staging", "blobs", "heartbeats", "caches")


@dataclass
class Category:
    """What one category lost (or, in a dry run, would lose)."""

    removed: int = 0
    bytes: int = 0
    items: list[str] = field(default_factory=list)


@dataclass
class CollectionReport:
    dry_run: bool
    grace_s: float
    categories: dict[str, Category] = field(default_factory=lambda: {name: Category() for name in CATEGORIES})

    @property
    def removed(self) -> int:
        return sum(c.removed for c in self.categories.values())

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.categories.values())

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "grace_s": self.grace_s, "removed": self.removed,
                "bytes": self.bytes, "categories": {k: asdict(v) for k, v in self.categories.items()}}


def collect(db: Database, store: ArtifactStore, home: Path, *, grace_s: float, dry_run: bool = False,
            beat_window_s: float = 0.0) -> CollectionReport:
    """One collection pass; see the module docstring for what is removed and why it is safe.

    ``beat_window_s`` is how long a running worker's beat file is left alone whatever the grace.
    """
    report = CollectionReport(dry_run=dry_run, grace_s=grace_s)
    started = time.time()
    with db.transaction(write=False) as session:
        referenced = referenced_blobs(session)  # before the store is listed: see the module docstring
    # The age limit counts back from before the references were read: a blob placed since then may
    # belong to a row committed since then, whatever the grace (0 included).
    gc = store.gc(referenced, older_than_s=grace_s + (time.time() - started), dry_run=dry_run)
    report.categories["blobs"] = Category(gc.blobs_removed, gc.bytes_freed, list(gc.blobs))
    report.categories["staging"] = Category(gc.staging_removed, gc.staging_bytes_freed, list(gc.staging))
    _remove_paths(report.categories["heartbeats"], stale_beats(home, older_than_s=max(grace_s, beat_window_s)), home, dry_run)
    cutoff = time.time() - grace_s
    exports = serving_cache_dir(home) / "exports"
    _remove_paths(report.categories["caches"], stale_cache_entries(exports, cutoff=cutoff), home, dry_run)
    return report


def _remove_paths(category: Category, paths: list[Path], home: Path, dry_run: bool) -> None:
    for path in paths:
        size = _size(path)
        if not dry_run:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        category.removed += 1
        category.bytes += size
        category.items.append(str(path.relative_to(home)) if path.is_relative_to(home) else str(path))


def _size(path: Path) -> int:
    """Bytes a path holds itself (a symlink counts as the link, not its target)."""
    try:
        if path.is_dir() and not path.is_symlink():
            return sum(p.lstat().st_size for p in path.rglob("*") if p.is_symlink() or not p.is_dir())
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


async def collect_forever(state: AppState) -> None:
    """The periodic pass of every API process (no election: see the module docstring)."""
    settings = state.settings
    while True:
        await asyncio.sleep(settings.gc.interval_s)
        try:
            report = await asyncio.to_thread(collect, state.db, state.artifacts, Path(settings.home),
                                             grace_s=settings.gc.grace_s,
                                             beat_window_s=readiness_window_s(settings.worker.heartbeat_s))
        except Exception as exc:  # noqa: BLE001 - a failed pass is retried at the next interval
            log.warning("garbage collection failed: %s", exc)
            continue
        if report.removed:
            log.info("garbage collection freed %d bytes in %d entries: %s", report.bytes, report.removed,
                     {k: v.removed for k, v in report.categories.items()})
