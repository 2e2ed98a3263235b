"""From token bytes to the text a caller may see: whole UTF-8 characters, never a stop sequence.

A token can end inside a multi-byte character, and a stop sequence can span tokens, so text is
released only when it can no longer turn out to be part of either: the caller never sees bytes it
would have to take back.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

__all__ = ["TextAssembler"]


class TextAssembler:
    """Feed each token's bytes; get the text safe to send now and whether a stop sequence completed."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    def feed(self, piece: bytes) -> tuple[str, bool]:
        """(text to release, True if a stop sequence was reached: nothing after it is released)."""
        self._held += self._decoder.decode(piece)
        cut = min((i for i in (self._held.find(stop) for stop in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            released, self._held = self._held[:cut], ""
            return released, True
        keep = self._longest_stop_prefix_suffix()
        released = self._held[: len(self._held) - keep]
        self._held = self._held[len(self._held) - keep:]
        return released, False

    def flush(self) -> str:
        """What is still held when generation ends without reaching a stop sequence."""
        rest, self._held = self._held + self._decoder.decode(b"", final=True), ""
        return rest

    def _longest_stop_prefix_suffix(self) -> int:
        """The length of the longest end of the held text that begins some stop sequence."""
        best = 0
        for stop in self._stops:
            for length in range(min(len(stop) - 1, len(self._held)), best, -1):
                if self._held.endswith(stop[:length]):
                    best = length
                    break
        return best
