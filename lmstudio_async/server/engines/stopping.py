"""Stop-string detection over streamed text, for any engine that generates token by token.

Text that might be the start of a stop string is held back until the next
pieces show whether it is one, so a stop string is never sent to the client,
even when it spans several tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["StopStringFilter"]


class StopStringFilter:
    def __init__(self, stop_strings: Sequence[str]) -> None:
        self._stops = tuple(s for s in stop_strings if s)
        self._held = ""
        #: The stop string that ended the text, once one was found.
        self.matched: str | None = None

    @property
    def held(self) -> str:
        """Text withheld so far because a stop string may start in it."""
        return self._held

    def feed(self, text: str) -> str:
        """Add generated text; return what can safely be released now.

        After a stop string is found, :attr:`matched` is set and the text before
        it is returned; everything from the stop string on is dropped.
        """
        if not self._stops:
            return text
        buffer = self._held + text
        found = min(
            ((index, stop) for stop in self._stops if (index := buffer.find(stop)) >= 0),
            default=None,
        )
        if found is not None:
            index, self.matched = found
            self._held = ""
            return buffer[:index]
        keep = self._longest_stop_prefix_suffix(buffer)
        self._held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """The withheld text, once generation ended without completing a stop string."""
        held, self._held = self._held, ""
        return held

    def _longest_stop_prefix_suffix(self, buffer: str) -> int:
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest
