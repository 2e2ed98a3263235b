"""From retrieved passages to an answer: the prompt, the abstention, the response body.

The LLM sees only the numbered passages and the question, and is told to answer briefly from them
and cite them as ``[n]``. Below the abstain threshold the LLM is not called at all: a fixed answer
says the documents do not hold one, and the best passages are still returned, so a human agent or
the customer can read them.
"""

from __future__ import annotations

import re
from typing import Any

from limelight.assistant.retrieval import Hit, Retrieval

ABSTAIN_ANSWER = "I don't know. The documents I can search do not answer this question."
SYSTEM_PROMPT = (
    "You are a customer support assistant. Answer the question in one or two sentences, using only "
    "the numbered passages, and cite the passage you used like [1]. "
    "If the passages do not contain the answer, say that you don't know."
)
# Passages are cut to this many words in the prompt: prompt tokens dominate a small CPU model's
# latency (about 400 of them cost 15 s on a busy 2-core machine), and the answer is usually early
PASSAGE_PROMPT_WORDS = 80
STOP = ("\n\n",)  # one paragraph: a small model tends to go on listing after the answer
_CITATION_MARK = re.compile(r"\[(\d{1,2})\]")


def build_messages(question: str, hits: list[Hit]) -> list[dict[str, str]]:
    numbered = "\n\n".join(f"[{n}] {_heading(hit)}: {' '.join(hit.text.split()[:PASSAGE_PROMPT_WORDS])}"
                           for n, hit in enumerate(hits, start=1))
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"}]


def _heading(hit: Hit) -> str:
    return f"{hit.title} — {hit.section}" if hit.section else hit.title


def should_abstain(retrieval: Retrieval, threshold: float) -> bool:
    return not retrieval.hits or retrieval.confidence < threshold


def cited_numbers(answer: str, n_passages: int) -> set[int]:
    """The passage numbers an answer refers to as ``[n]`` (out-of-range marks ignored)."""
    return {int(m) for m in _CITATION_MARK.findall(answer) if 1 <= int(m) <= n_passages}


def citations(hits: list[Hit], answer: str | None) -> list[dict[str, Any]]:
    """One citation per passage given to the LLM, in rank order; ``cited``: the answer marks it."""
    marked = cited_numbers(answer, len(hits)) if answer else set()
    return [{"doc_id": hit.doc_id, "title": hit.title, "section": hit.section, "passage": hit.text,
             "score": hit.score, "similarity": hit.similarity, "cited": n in marked}
            for n, hit in enumerate(hits, start=1)]


def response_body(retrieval: Retrieval, answer: str | None, **extra: Any) -> dict[str, Any]:
    """``{"answer", "citations", "abstained", "confidence", ...extra}``; ``answer=None`` abstains."""
    abstained = answer is None
    return {"answer": ABSTAIN_ANSWER if answer is None else answer.strip(),
            "citations": citations(retrieval.hits, answer), "abstained": abstained,
            "confidence": retrieval.confidence, **extra}
