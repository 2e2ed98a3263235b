"""Building an assistant index from a ``documents`` table: passages, MiniLM vectors, BM25.

The recipe, the tests and the benchmark all call :func:`build_index`, so what is measured is what
ships. The encoding and BM25 code is the search domain's (``limelight.search``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from limelight.assistant.artifact import PASSAGE_FIELDS, AssistantIndex
from limelight.assistant.chunking import Passage, chunk_document
from limelight.search.building import encode, minilm_encoder
from limelight.search.lexical import LexicalIndex
from limelight.search.text import tokens

Log = Callable[[float, str], None]
# MiniLM reads passages of up to this many word pieces: a 120-word passage is about 160
ENCODER_MAX_LENGTH = 256
TITLE_WEIGHT = 2  # a title's words count twice in BM25: a question usually names the topic
MAX_WORD_VECTORS = 30_000  # the most frequent terms get a vector; rarer ones count only when typed exactly


def passage_encoder(cache_dir: Path | None, threads: int = 2) -> Any:
    return minilm_encoder(cache_dir, max_length=ENCODER_MAX_LENGTH, threads=threads)


def embedding_text(passage: Passage) -> str:
    return ". ".join(part for part in (passage.title, passage.section, passage.text) if part)


def lexical_tokens(passage: Passage) -> list[str]:
    return tokens(passage.title) * TITLE_WEIGHT + tokens(passage.section) + tokens(passage.text)


def documents_of(table: Any) -> list[tuple[str, str, str]]:
    """(doc_id, title, text) of a normalised ``documents`` table; a missing title becomes the id."""
    ids = [str(v) for v in table.column("doc_id").to_pylist()]
    texts = [str(v or "") for v in table.column("text").to_pylist()]
    titles = table.column("title").to_pylist() if "title" in table.column_names else [None] * len(ids)
    return [(doc_id, str(title or doc_id), text) for doc_id, title, text in zip(ids, titles, texts, strict=True)]


def chunk_all(documents: Sequence[tuple[str, str, str]], max_tokens: int, overlap_tokens: int) -> list[Passage]:
    return [p for doc_id, title, text in documents
            for p in chunk_document(doc_id, title, text, max_tokens=max_tokens, overlap_tokens=overlap_tokens)]


def build_index(documents: Sequence[tuple[str, str, str]], params: Mapping[str, Any], encoder: Any,
                log: Log | None = None) -> AssistantIndex:
    passages = chunk_all(documents, int(params["chunk_tokens"]), int(params["overlap_tokens"]))
    if not passages:
        from limelight.errors import DatasetInvalid

        raise DatasetInvalid("The documents hold no text to index.", details={"documents": len(documents)})
    embeddings = encode(encoder, [embedding_text(p) for p in passages], batch_size=32, log=log)
    lexical = LexicalIndex.build([lexical_tokens(p) for p in passages])
    word_terms = frequent_terms(lexical)
    word_embeddings = encoder.encode_many(list(word_terms), 256, None) if word_terms.size else \
        np.zeros((0, embeddings.shape[1]), np.float32)
    columns = {name: np.asarray([getattr(p, name) for p in passages], dtype=str) for name in PASSAGE_FIELDS}
    metadata = {"format_params": {"encoder_max_length": ENCODER_MAX_LENGTH}, "params": dict(params),
                "documents": len(documents), "metrics": {"documents": len(documents), "passages": len(passages)}}
    return AssistantIndex(columns, np.asarray(embeddings, np.float32), lexical, metadata, word_terms,
                          np.asarray(word_embeddings, np.float32))


def frequent_terms(lexical: LexicalIndex) -> np.ndarray:
    """Up to ``MAX_WORD_VECTORS`` terms, the most frequent first (ties in vocabulary order)."""
    frequency = np.diff(lexical.indptr)
    order = np.argsort(-frequency, kind="stable")
    keep = [int(i) for i in order if str(lexical.vocab[i])][:MAX_WORD_VECTORS]
    return np.asarray([str(lexical.vocab[i]) for i in keep], dtype=str)
