"""From a model version to a loaded runtime: its registry row, its blob, the runtime, a warm-up."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from limelight.errors import NotFound
from limelight.runtimes.base import LoadContext, Runtime, load_runtime
from limelight.runtimes.sandbox import verdict_is_current
from limelight.serving.ports import ModelDirectory, VersionFacts
from limelight.verbs import VersionKey

if TYPE_CHECKING:
    from limelight.server.state import AppState

log = logging.getLogger(__name__)


def serving_cache_dir(home: Path) -> Path:
    """Where serving keeps files derived from blobs (the collector removes those whose blob is gone)."""
    return home / "cache" / "serving"


class VersionLoader:
    """The model host's loader: runs in its load thread, once per version load.

    No version is parsed here before the sandbox passed it with this process's libraries: a
    version that was never validated (trained before validation existed, or by a job) or was
    validated under other library versions is validated first, and the verdict is kept on it.
    """

    def __init__(self, state: AppState, directory: ModelDirectory, cache_dir: Path) -> None:
        self.state = state
        self.directory = directory
        self.cache_dir = cache_dir

    def __call__(self, key: VersionKey) -> Runtime:
        """The version row, its blob, the verdict, the runtime."""
        facts = self.directory.version(key.org, key.model, key.version)
        if facts is None:
            raise NotFound(f"{key} not found")
        path = self.state.artifacts.local_path(facts.sha256)
        context = LoadContext(cache_dir=self.cache_dir / "exports", org=key.org, services=self.state.runtime_services())
        if not verdict_is_current(facts.validation, facts.runtime):
            self._validate(key, facts, path, context)
        loaded = load_runtime(facts.runtime, path, facts.params, context)
        # A model library brings a million long-lived objects; a full collection would then scan
        # them all (0.2-0.3 s pauses, measured). Frozen objects are skipped by the collector.
        gc.freeze()
        return loaded

    def _validate(self, key: VersionKey, facts: VersionFacts, path: Path, context: LoadContext) -> None:
        log.info("validating %s in the sandbox before its first load here", key)
        verdict = self.state.validator.validate(path, sha256=facts.sha256, runtime=facts.runtime,
                                                params=facts.params, cache_dir=context.cache_dir, org=key.org)
        self.directory.record_validation(facts.id, verdict.record(facts.runtime))


def warm_up(key: VersionKey, runtime: Runtime) -> None:
    """One prediction on a made-up input before a version takes traffic (first calls are slow);
    a runtime whose signature gives no obvious sample is left cold."""
    try:
        spec = runtime.signature().get("inputs") or []
        if len(spec) != 1:
            return
        dtype, shape = spec[0].get("dtype"), spec[0].get("shape") or []
        if dtype == "string":
            sample: Any = "warm up"
        elif str(dtype).startswith("float") and len(shape) == 2 and shape[1] > 0:
            sample = [0.0] * int(shape[1])
        else:
            return
        runtime.predict_batch([runtime.validate_input(sample)])
    except Exception as exc:  # noqa: BLE001 - a failed warm-up leaves the version cold, not failed
        log.info("warm-up of %s skipped: %s", key, exc)
