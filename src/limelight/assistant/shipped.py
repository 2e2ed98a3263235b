"""The knowledge base shipped with the package: the Reelwave help centre and its evaluation set."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

KNOWLEDGE_BASE_DIR = Path(__file__).parent / "knowledge_base"


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # doc ids that answer it; empty: the knowledge base cannot

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def article_paths() -> list[Path]:
    return sorted((KNOWLEDGE_BASE_DIR / "articles").glob("*.md"))


def articles() -> list[tuple[str, str, str]]:
    """(doc_id, title, text) per article: the id is the file name, the title its first heading."""
    out = []
    for path in article_paths():
        text = path.read_text(encoding="utf-8")
        first = text.lstrip().splitlines()[0]
        out.append((path.stem, first.lstrip("#").strip(), text))
    return out


def evaluation_questions() -> list[EvalQuestion]:
    lines = (KNOWLEDGE_BASE_DIR / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [EvalQuestion(r["id"], r["question"], tuple(r["answers"])) for r in rows]


def write_zip(dest: Path) -> Path:
    """The articles as the zip a studio would upload (``articles/<id>.md``)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in article_paths():
            archive.write(path, f"articles/{path.name}")
    return dest
