"""The marketplace's small search language, parsed into data before any SQL sees it.

Text (``q``): plain words, "quoted phrases" and ``-exclusions`` (``-word`` or ``-"a phrase"``),
all required (AND). Nothing else is syntax: ``OR``, ``NEAR(``, ``*`` or ``:`` are ordinary text,
so no input can reach the full-text engine as its own query language. A quote left open runs to
the end of the text; control characters count as spaces. A term is kept only if it holds a
letter or a digit; a text that keeps none
is refused (``invalid_query``), and so is one too long or with too many terms.

Metric ranges (``metric``): ``name>=0.3``, with ``>=``, ``<=``, ``>`` or ``<`` and a finite number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from limelight.errors import InvalidParams, InvalidQuery

MAX_QUERY_CHARS = 500
MAX_TERMS = 16
MAX_METRIC_RANGES = 8

_TERM = re.compile(r'(-?)(?:"([^"]*)(?:"|$)|([^\s"]+))')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # NUL and friends: no database stores them in text
_WORDY = re.compile(r"\w", re.UNICODE)
_METRIC = re.compile(r"^\s*([A-Za-z0-9_@.:/-]{1,64})\s*(>=|<=|>|<)\s*([^\s<>=]{1,32})\s*$")
METRIC_OPERATORS = (">=", "<=", ">", "<")


@dataclass(frozen=True)
class TextQuery:
    """Terms every match must contain and terms none may contain; each term is a word or a phrase."""

    required: tuple[str, ...]
    excluded: tuple[str, ...]

    @property
    def ranks(self) -> bool:
        """Whether the query can order by relevance (exclusions alone match, but rank nothing)."""
        return bool(self.required)


@dataclass(frozen=True)
class MetricRange:
    metric: str
    operator: str  # one of METRIC_OPERATORS
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.operator}{self.value:g}"


def parse_text(raw: str | None) -> TextQuery | None:
    """The terms of ``raw``; None when there is no text at all (blank means "no text filter")."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"The search text is {len(raw)} characters long; at most {MAX_QUERY_CHARS} are searched.",
                           details={"reason": "too_long", "max_chars": MAX_QUERY_CHARS})
    required: list[str] = []
    excluded: list[str] = []
    for match in _TERM.finditer(_CONTROL.sub(" ", raw)):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        text = " ".join((phrase if phrase is not None else word or "").split())
        if not _WORDY.search(text):
            continue  # punctuation only: nothing a full-text index could hold
        (excluded if negated else required).append(text)
    if not required and not excluded:
        raise InvalidQuery("The search text has no word to search for: use letters or digits, "
                           'e.g. q=anime or q="movie recommender" -beta.',
                           details={"q": raw[:100], "reason": "no_terms"})
    if len(required) + len(excluded) > MAX_TERMS:
        raise InvalidQuery(f"The search text has {len(required) + len(excluded)} terms; at most {MAX_TERMS} are searched.",
                           details={"q": raw[:100], "reason": "too_many_terms", "max_terms": MAX_TERMS})
    return TextQuery(tuple(dict.fromkeys(required)), tuple(dict.fromkeys(excluded)))


def parse_metric_ranges(raw: list[str] | None) -> tuple[MetricRange, ...]:
    """``metric=ndcg@10>=0.3`` filters; any malformed one is a 400 naming the parameter."""
    if not raw:
        return ()
    if len(raw) > MAX_METRIC_RANGES:
        raise InvalidParams(f"At most {MAX_METRIC_RANGES} metric ranges may be given.",
                            details={"param": "metric", "max": MAX_METRIC_RANGES})
    return tuple(_metric_range(text) for text in raw)


def _metric_range(text: str) -> MetricRange:
    match = _METRIC.match(text)
    value = _finite(match.group(3)) if match else None
    if match is None or value is None:
        raise InvalidParams(
            f"metric={text[:80]!r} is not a metric range: write NAME>=NUMBER (or <=, >, <), e.g. metric=ndcg@10>=0.3.",
            details={"param": "metric", "value": text[:80]})
    return MetricRange(match.group(1), match.group(2), value)


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
