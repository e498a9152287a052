"""Checks that turn what cannot be sent into an :class:`LMStudioValueError` naming the argument.

Some values are valid Python but cannot go on the wire: strings with lone
surrogates (``"\\ud800"``) are not UTF-8, and structures nested thousands of
levels deep exhaust the encoder. Both are found before anything is sent.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import LMStudioValueError

__all__ = ["check_text", "check_encodable"]


def check_text(value: object, name: str) -> str:
    """``value`` if it is a string that can be sent; else an error naming ``name``."""
    if not isinstance(value, str):
        raise LMStudioValueError(f"{name} must be a string, not {type(value).__name__}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LMStudioValueError(_surrogate_message(name, exc)) from None
    return value


def check_encodable(value: Any, name: str, valid: str) -> None:
    """Raise an error naming ``name`` (and what would be ``valid``) unless ``value`` encodes."""
    try:
        msgspec.json.encode(value)
    except UnicodeEncodeError as exc:
        raise LMStudioValueError(_surrogate_message(name, exc)) from None
    except RecursionError:
        raise LMStudioValueError(
            f"{name} is nested too deeply to send; expected {valid}."
        ) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise LMStudioValueError(
            f"{name} cannot be sent as JSON ({exc}); expected {valid}."
        ) from None


def _surrogate_message(name: str, exc: UnicodeEncodeError) -> str:
    bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else "?"
    return (
        f"{name} holds a lone surrogate ({bad!r} at position {exc.start}), which is not "
        "valid Unicode text and cannot be sent; expected valid text (decode input with "
        "errors='replace' to repair it)."
    )
