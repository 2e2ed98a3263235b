"""Item text embeddings for content-based cold start: "title. genres. description" through MiniLM.

Training jobs embed every catalog item once (items known at training time, so serving needs no
text model). The text is the title, the genres, then the free-text columns an ``items`` dataset
may carry (description, overview, plot, text, tags), each cut to ``MAX_FIELD_CHARS``; an item
without any of them gets a zero vector and ``has_text`` False, so it never looks similar to anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["embed_texts", "item_texts"]

TEXT_COLUMNS = ("description", "overview", "plot", "text", "tags")
MAX_FIELD_CHARS = 1000
BATCH_SIZE = 64


def _field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v is not None)
    return str(value).strip()


def item_texts(item_ids: np.ndarray, table: Any) -> list[str]:
    """One text per id of ``item_ids`` from an ``items`` Arrow table ("" for items it lacks)."""
    names = set(table.column_names)
    rows = {str(i): n for n, i in enumerate(table.column("item_id").to_pylist())}
    columns = [c for c in ("title", "genres", *TEXT_COLUMNS) if c in names]
    values = {c: table.column(c).to_pylist() for c in columns}
    texts = []
    for item_id in item_ids.tolist():
        row = rows.get(str(item_id))
        if row is None:
            texts.append("")
            continue
        parts = [_field(values[c][row])[:MAX_FIELD_CHARS] for c in columns]
        texts.append(". ".join(p for p in parts if p))
    return texts


def embed_texts(
    texts: Sequence[str],
    *,
    cache_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
    threads: int = 2,
) -> np.ndarray:
    """Unit-length MiniLM embeddings (float32, n x 384); empty texts get zero rows."""
    from limelight.runtimes.base import LoadContext, load_runtime
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    # the ONNX export (kept in cache_dir) encodes faster than torch; without a cache dir, torch
    runtime = load_runtime("sentence-embedding", bundled_minilm_dir(),
                           {"engine": "onnx" if cache_dir is not None else "torch", "threads": threads,
                            "max_length": 128},
                           LoadContext(cache_dir=cache_dir))

    def progress(done: int, total: int) -> None:
        if log is not None and (done == total or (done // BATCH_SIZE) % 20 == 0):
            log(f"embedded {done}/{total} item texts")

    try:
        present = [i for i, t in enumerate(texts) if t]
        out = np.zeros((len(texts), int(runtime.dim)), np.float32)  # type: ignore[attr-defined]
        if present:
            out[present] = runtime.encode_many([texts[i] for i in present], BATCH_SIZE,  # type: ignore[attr-defined]
                                               progress)
        return out
    finally:
        runtime.close()
