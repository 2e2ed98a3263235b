"""Cutting documents into overlapping passages that fit the encoder and the LLM's prompt.

A document's text is read as Markdown (plain text is valid Markdown): headings start sections,
paragraphs and list items are blocks. Blocks are packed into passages of at most ``max_tokens``
words, never across a section boundary, so a passage stays about one thing and its heading can
name it. Consecutive passages of a section share their last ``overlap_tokens`` words, so a
sentence cut at a boundary is whole in one of them. "Tokens" are whitespace-separated words: a
budget the user can reason about, about 0.75 of the MiniLM and SmolLM2 token counts for English.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass(frozen=True)
class Passage:
    doc_id: str
    title: str
    section: str  # the nearest heading above the passage ("" before the first one)
    text: str


@dataclass
class _Section:
    heading: str
    blocks: list[str]


def word_count(text: str) -> int:
    return len(text.split())


def chunk_document(doc_id: str, title: str, text: str, *, max_tokens: int = 120,
                   overlap_tokens: int = 30) -> list[Passage]:
    """The passages of one document, in reading order."""
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError("overlap_tokens must be at least 0 and less than max_tokens")
    passages: list[Passage] = []
    for section in _sections(text):
        if section.heading and section.heading == title and not section.blocks:
            continue
        for body in _pack(section.blocks, max_tokens, overlap_tokens):
            passages.append(Passage(doc_id, title, "" if section.heading == title else section.heading, body))
    return passages


def _sections(text: str) -> list[_Section]:
    sections = [_Section("", [])]
    prefix: list[str] = []  # list markers of the enclosing list items
    heading_next = False
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type == "heading_open":
            heading_next = True
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            prefix.append("-" if token.type == "bullet_list_open" else "1.")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix.pop()
        elif token.type == "inline":
            content = _plain(token)
            if heading_next:
                sections.append(_Section(content, []))
                heading_next = False
            elif content:
                sections[-1].blocks.append(f"{prefix[-1]} {content}" if prefix else content)
        elif token.type in ("fence", "code_block") and token.content.strip():
            sections[-1].blocks.append(token.content.strip())
    return [s for s in sections if s.blocks or s.heading]


def _plain(token: Token) -> str:
    """An inline token's text without Markdown markup (emphasis, links, code ticks)."""
    parts = [c.content if c.type in ("text", "code_inline") else " " if c.type.endswith("break") else ""
             for c in token.children or []]
    return " ".join("".join(parts).split())


def _pack(blocks: list[str], max_tokens: int, overlap_tokens: int) -> Iterator[str]:
    """Blocks joined into passages of at most ``max_tokens`` words, consecutive ones overlapping."""
    words: list[str] = []
    lines: list[list[str]] = []  # the passage being filled, one list of words per block
    for block in blocks:
        for piece in _split_long(block.split(), max_tokens, overlap_tokens):
            if words and len(words) + len(piece) > max_tokens:
                yield "\n".join(" ".join(line) for line in lines)
                carried = words[len(words) - overlap_tokens:] if overlap_tokens else []
                words, lines = list(carried), [list(carried)] if carried else []
            words.extend(piece)
            lines.append(piece)
    if words:
        yield "\n".join(" ".join(line) for line in lines)


def _split_long(words: list[str], max_tokens: int, overlap_tokens: int) -> Iterator[list[str]]:
    """A block longer than a passage, as windows of ``max_tokens - overlap_tokens`` new words."""
    step = max(max_tokens - overlap_tokens, 1)
    if len(words) <= step:
        yield words
        return
    for start in range(0, len(words), step):
        yield words[start:start + step]
