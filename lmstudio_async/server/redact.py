"""What the server may repeat of what a client sent: short excerpts, and never a token."""

from __future__ import annotations

__all__ = ["MAX_ECHOED_NAME", "loggable_identifier", "shorten"]

#: Endpoint names longer than this are neither fuzzy-matched nor echoed in full.
MAX_ECHOED_NAME = 128


def shorten(text: str, limit: int = MAX_ECHOED_NAME) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def loggable_identifier(identifier: str) -> str:
    """A client identifier as logs may show it: short, and never an API token."""
    if "sk-lm-" in identifier.lower():
        return "<an API token, not shown>"
    return repr(shorten(identifier, 64))
