"""Row problems: the reasons a row is refused, and the log that keeps the first N of them."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, NoReturn

from limelight.errors import DatasetInvalid

VALUE_MAX_CHARS = 120


class Reason:
    """The stable texts of ``details.errors[].reason`` (clients may match on them)."""

    MISSING_COLUMN = "missing required column"
    AMBIGUOUS_COLUMN = "ambiguous column"
    DUPLICATE_COLUMN = "duplicate column name"
    TOO_MANY_COLUMNS = "too many columns"
    UNSUPPORTED_TYPE = "unsupported column type"
    EMPTY_ID = "empty id"
    BAD_ID = "not a valid id"
    DUPLICATE_ID = "duplicate id"
    MISSING_VALUE = "missing value"
    NOT_A_NUMBER = "not a number"
    NOT_AN_INTEGER = "not an integer"
    NAN = "NaN not allowed"
    INFINITE = "infinite value not allowed"
    NEGATIVE = "negative value not allowed"
    OUT_OF_RANGE = "number out of range"
    NOT_A_BOOLEAN = "not a boolean"
    BAD_TIMESTAMP = "unparsable timestamp"
    TIMESTAMP_RANGE = "timestamp out of range"
    NESTED_VALUE = "nested value not supported"
    WRONG_FIELD_COUNT = "wrong number of columns"
    INVALID_JSON = "invalid JSON"
    INVALID_UTF8 = "invalid UTF-8"
    NOT_AN_OBJECT = "not a JSON object"
    LINE_TOO_LONG = "line too long"
    UNREADABLE = "unreadable file"
    NO_ROWS = "no data rows"
    LIMIT = "file exceeds a limit"


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    column: str | None
    value: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "value": self.value, "reason": self.reason}


def show_value(value: Any) -> str | None:
    """A raw value as the rejection shows it: text, cut short."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


class ProblemLog:
    """Keeps the ``limit`` problems with the lowest line numbers, and counts every bad row.

    Problems may arrive out of line order (a CSV parser reports malformed rows of a block before
    that block's values are checked), so a bounded max-heap keeps the first ``limit`` by line.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bad_rows = 0
        self.rows_checked = 0
        self._heap: list[tuple[int, int, Problem]] = []  # (-line, -seq, problem): a max-heap
        self._seq = 0

    def add(self, problem: Problem) -> None:
        self._seq += 1
        entry = (-problem.line, -self._seq, problem)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
        elif entry > self._heap[0]:
            heapq.heapreplace(self._heap, entry)

    def would_keep(self, line: int) -> bool:
        """Whether a problem on ``line`` could still be among the first ``limit``."""
        return len(self._heap) < self.limit or line < -self._heap[0][0]

    def problems(self) -> list[Problem]:
        ordered = sorted(self._heap, key=lambda e: (-e[0], -e[1]))
        return [p for _, _, p in ordered]

    def details(self) -> dict[str, Any]:
        return {
            "errors": [p.to_dict() for p in self.problems()],
            "bad_rows": self.bad_rows,
            "rows_checked": self.rows_checked,
        }

    def reject(self) -> NoReturn:
        first = self.problems()[0]
        where = f"line {first.line}" + (f", column {first.column!r}" if first.column else "")
        if self.bad_rows:
            message = (f"The dataset was rejected: {self.bad_rows} bad row(s) of {self.rows_checked} "
                       f"checked; the first at {where}: {first.reason}.")
        else:
            message = f"The dataset was rejected at {where}: {first.reason}."
        raise DatasetInvalid(message, details=self.details())


def reject_file(problem: Problem, *, rows_checked: int = 0) -> NoReturn:
    """Refuse the whole file for one file-level problem (header, schema, limits, parse failure)."""
    log = ProblemLog(1)
    log.add(problem)
    log.rows_checked = rows_checked
    log.reject()
