"""Tokens, the indexed text of an item, and highlight spans.

One tokenizer serves the BM25 index, queries and highlights, so a highlighted span is exactly a
token that matched: words are casefolded runs of letters and digits, English stop words dropped,
and a light plural strip (``heists`` -> ``heist``) so singular and plural queries meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

_WORD = re.compile(r"[^\W_]+")
_STOP_TEXT = ("a an and are as at be but by for from has have he her his in is it its of on or she that the "
              "their they this to was were will with who whom what which")
STOP_WORDS = frozenset(_STOP_TEXT.split(" "))
MAX_QUERY_CHARS = 1000
MAX_SPANS_PER_FIELD = 20


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def token_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(term, start, end) for each indexed word of ``text``."""
    for match in _WORD.finditer(text):
        word = match.group().casefold()
        if word not in STOP_WORDS:
            yield stem(word), match.start(), match.end()


def tokens(text: str) -> list[str]:
    return [term for term, _, _ in token_spans(text)]


def weighted_tokens(fields: Mapping[str, str], weights: Mapping[str, int]) -> list[str]:
    """An item's BM25 document: each field's tokens repeated by its weight (a BM25F approximation)."""
    out: list[str] = []
    for name, weight in weights.items():
        out.extend(tokens(fields.get(name, "")) * weight)
    return out


def embedding_text(fields: Mapping[str, str], order: Sequence[str]) -> str:
    """What the sentence encoder reads for an item: the indexed fields in a fixed order."""
    return ". ".join(fields[name] for name in order if fields.get(name))


def highlights(query_terms: set[str], fields: Mapping[str, str]) -> dict[str, list[list[int]]]:
    """Character spans ``[start, end)`` of query terms in each field that has any."""
    found: dict[str, list[list[int]]] = {}
    for name, text in fields.items():
        spans = [[start, end] for term, start, end in token_spans(text) if term in query_terms]
        if spans:
            found[name] = spans[:MAX_SPANS_PER_FIELD]
    return found
