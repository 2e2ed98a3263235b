"""The title and text of one document file: Markdown, plain text, HTML or PDF.

Markdown keeps its source (headings and lists are what the assistant cuts passages by); HTML is
turned into the same shape, its headings as ``#`` lines and its list items as ``-`` lines, by the
standard library's parser; PDF text comes from ``pypdf`` (pure Python, so no native parser ever
sees uploaded bytes). A file whose text cannot be read yields ``None`` with the reason.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

from markdown_it import MarkdownIt

MARKDOWN, TEXT, HTML, PDF = "markdown", "text", "html", "pdf"
DOCUMENT_SUFFIXES = {".md": MARKDOWN, ".markdown": MARKDOWN, ".txt": TEXT, ".text": TEXT,
                     ".html": HTML, ".htm": HTML, ".pdf": PDF}
DOCUMENT_CONTENT_TYPES = {"text/markdown": MARKDOWN, "text/x-markdown": MARKDOWN, "text/plain": TEXT,
                          "text/html": HTML, "application/pdf": PDF}
PDF_MAGIC = b"%PDF-"
TITLE_MAX_CHARS = 300
MAX_PDF_PAGES = 2_000
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


@dataclass(frozen=True)
class DocumentText:
    title: str
    text: str


def document_type(path: str | None, content_type: str | None = None, head: bytes = b"") -> str | None:
    if head.startswith(PDF_MAGIC):
        return PDF
    suffix = PurePosixPath((path or "").lower()).suffix
    if suffix in DOCUMENT_SUFFIXES:
        return DOCUMENT_SUFFIXES[suffix]
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return DOCUMENT_CONTENT_TYPES.get(mime)


def extract(kind: str, data: bytes) -> DocumentText | str:
    """The document, or the reason it has no usable text."""
    if kind == PDF:
        return _pdf(data)
    text = decode(data)
    if kind == HTML:
        parser = _HtmlText()
        parser.feed(text)
        parser.close()
        return _document(parser.title or parser.first_h1, parser.text())
    if kind == MARKDOWN:
        return _markdown(text)
    return _document("", text)


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _document(title: str, text: str) -> DocumentText | str:
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        return "no text"
    first_line = next((line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()), "")
    return DocumentText(" ".join((title or first_line).split())[:TITLE_MAX_CHARS], text)


def _markdown(text: str) -> DocumentText | str:
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:  # YAML front matter: keep its title, drop the block
        text = text[front.end():]
        found = re.search(r"(?m)^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1))
        title = found.group(1) if found else ""
    if not title:
        tokens = MarkdownIt("commonmark").parse(text)
        title = next((tokens[i + 1].content for i, t in enumerate(tokens[:-1]) if t.type == "heading_open"), "")
    return _document(title, text)


def _pdf(data: bytes) -> DocumentText | str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return "encrypted PDF"
        if len(reader.pages) > MAX_PDF_PAGES:
            return f"more than {MAX_PDF_PAGES} pages"
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        return f"unreadable PDF ({type(exc).__name__})"
    return _document(str(title), "\n\n".join(p.strip() for p in pages if p.strip()))


class _HtmlText(HTMLParser):
    """Visible text with headings and list items marked the Markdown way; <title> and <h1> noted."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCKS = frozenset({"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "blockquote",
                         "pre", "header", "footer", "main", "aside", "nav", "dd", "dt", "figcaption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.first_h1 = ""
        self._skip = 0
        self._in_title = False
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            if tag == "h1" and not self.first_h1:
                self.first_h1 = " ".join("".join(self._heading).split())
            self._heading = None
            self.parts.append("\n\n")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            text = re.sub(r"\s+", " ", data)
            self.parts.append(text)
            if self._heading is not None:
                self._heading.append(text)

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
