"""From a model version to a loaded runtime: its registry row, its blob, the runtime, a warm-up."""

from __future__ import annotations

import gc
import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from limelight.errors import InvalidParams, NotFound
from limelight.private_paths import make_private_dirs
from limelight.runtimes.base import LoadContext, Runtime, load_runtime
from limelight.serving.host import VersionKey

if TYPE_CHECKING:
    from limelight.server.state import AppState

log = logging.getLogger(__name__)

# Named bases for sentence-embedding versions whose artifact is only the safetensors weights.
_EMBEDDING_BASES: Mapping[str, str] = {"all-minilm-l6-v2": "bundled_minilm_dir"}
_BASE_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentence_bert_config.json",
)


class VersionLoader:
    """The model host's loader: runs in its load thread, once per version load."""

    def __init__(self, state: AppState, cache_dir: Path) -> None:
        self.state = state
        self.cache_dir = cache_dir

    def __call__(self, key: VersionKey) -> Runtime:
        """The version row, its blob, the runtime."""
        from limelight.registry import repository

        with self.state.db.transaction(write=False) as session:
            found = repository.model_with_org(session, key.org, key.model)
            row = repository.version(session, found[0].id, key.version) if found else None
            if row is None:
                raise NotFound(f"{key} not found")
            sha256, runtime, fmt, params = row.blob_sha256, row.runtime, row.format, dict(row.params or {})
        path = self.state.artifacts.local_path(sha256)
        if runtime == "sentence-embedding" and fmt == "safetensors":
            path = self._embedding_dir(sha256, path, params)
        loaded = load_runtime(runtime, path, params, LoadContext(cache_dir=self.cache_dir / "exports", org=key.org, services=self.state.extras))
        # A model library brings a million long-lived objects; a full collection would then scan
        # them all (0.2-0.3 s pauses, measured). Frozen objects are skipped by the collector.
        gc.freeze()
        return loaded

    def _embedding_dir(self, sha256: str, weights: Path, params: dict[str, Any]) -> Path:
        """A model directory for weights-only versions: the weights plus a named base's config and
        tokenizer (``params.base``, default ``all-minilm-l6-v2``). Built once, renamed into place."""
        base = str(params.get("base", "all-minilm-l6-v2"))
        if base not in _EMBEDDING_BASES:
            raise InvalidParams(
                f"unknown base {base!r}",
                details={"field": "params.base", "allowed": sorted(_EMBEDDING_BASES)},
            )
        target = self.cache_dir / "models" / f"{base}-{sha256}"
        if (target / "model.safetensors").exists():
            return target
        from limelight.runtimes import sentence_embedding

        source = getattr(sentence_embedding, _EMBEDDING_BASES[base])()
        tmp = target.with_name(f".{target.name}.{time.monotonic_ns()}")
        make_private_dirs(tmp)
        for name in _BASE_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, tmp / name)
        (tmp / "model.safetensors").symlink_to(weights)
        try:
            tmp.rename(target)
        except OSError:  # another process won the race; its directory is identical
            shutil.rmtree(tmp, ignore_errors=True)
        return target


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
