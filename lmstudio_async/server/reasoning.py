"""Splitting generated text into reasoning and answer fragments, as LM Studio does.

With ``llm.prediction.reasoning.parsing`` enabled (the default, tags ``<think>``
and ``</think>``), the start tag goes out as a ``reasoningStartTag`` fragment,
the text up to the end tag as ``reasoning`` fragments, the end tag as
``reasoningEndTag``, and everything else as ``none``. Tags may arrive split over
several pieces of generated text; a piece that might begin a tag is held back
until the next one tells.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ReasoningSplitter", "splitter_for"]

_PARSING_KEY = "llm.prediction.reasoning.parsing"


class ReasoningSplitter:
    def __init__(self, start: str, end: str) -> None:
        self._start = start
        self._end = end
        self._inside = False
        self._held = ""
        self._held_tokens = 0

    def feed(self, text: str, tokens: int) -> list[tuple[str, str, int]]:
        """``(content, reasoningType, tokensCount)`` parts ready to send; tokens are kept in sum."""
        tag = self._end if self._inside else self._start
        if not self._held and tag[0] not in text:
            return [(text, self._kind(), tokens)] if text else []
        self._held += text
        self._held_tokens += tokens
        parts: list[tuple[str, str, int]] = []
        while True:
            tag = self._end if self._inside else self._start
            index = self._held.find(tag)
            if index < 0:
                keep = _partial_tag_length(self._held, tag)
                self._emit(parts, self._held[: len(self._held) - keep], self._kind())
                self._held = self._held[len(self._held) - keep :]
                return parts
            self._emit(parts, self._held[:index], self._kind())
            self._emit(parts, tag, "reasoningEndTag" if self._inside else "reasoningStartTag")
            self._held = self._held[index + len(tag) :]
            self._inside = not self._inside

    def flush(self) -> list[tuple[str, str, int]]:
        parts: list[tuple[str, str, int]] = []
        self._emit(parts, self._held, self._kind())
        self._held = ""
        return parts

    def _kind(self) -> str:
        return "reasoning" if self._inside else "none"

    def _emit(self, parts: list[tuple[str, str, int]], content: str, kind: str) -> None:
        if content:
            parts.append((content, kind, self._held_tokens))
            self._held_tokens = 0


def _partial_tag_length(text: str, tag: str) -> int:
    """The length of the longest end of ``text`` that begins ``tag``."""
    for length in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


def splitter_for(values: Mapping[str, Any]) -> ReasoningSplitter | None:
    """The splitter the effective prediction config asks for, or ``None`` if parsing is off."""
    parsing = values.get(_PARSING_KEY)
    if not isinstance(parsing, Mapping) or not parsing.get("enabled", True):
        return None
    start, end = parsing.get("startString"), parsing.get("endString")
    if not isinstance(start, str) or not isinstance(end, str) or not start or not end:
        return None
    return ReasoningSplitter(start, end)
