"""Process-wide defaults shared by every client (async and blocking)."""

from __future__ import annotations

import math
import threading

from .errors import LMStudioValueError

__all__ = ["get_default_timeout", "set_default_timeout", "check_timeout", "INITIAL_TIMEOUT"]

#: The default timeout when nothing else was set: generous, since a busy server can be
#: slow, but finite, so that nothing hangs.
INITIAL_TIMEOUT = 60.0

_lock = threading.Lock()
_default_timeout = INITIAL_TIMEOUT


def check_timeout(value: float | None, name: str = "timeout", *, allow_zero: bool = True) -> float:
    """Validate a timeout in seconds, as the official SDK reads one.

    ``None`` and ``math.inf`` mean no limit; ``0`` means no waiting (only what the
    server has already sent counts), unless ``allow_zero`` is false.
    """
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise LMStudioValueError(
            f"{name} must be a number of seconds (or None for no limit), not {value!r}."
        )
    if value < 0 or (value == 0 and not allow_zero):
        least = "zero or more" if allow_zero else "positive"
        raise LMStudioValueError(
            f"{name} must be {least}, not {value!r}; use None or math.inf to wait without limit."
        )
    return float(value)


def get_default_timeout() -> float:
    """Seconds a client waits for the server when it was given no ``timeout`` of its own
    (``math.inf``: no limit)."""
    return _default_timeout


def set_default_timeout(timeout: float | None) -> None:
    """Set the timeout of every client without a ``timeout`` of its own, existing ones
    included (``None``: no limit; ``0``: no waiting)."""
    global _default_timeout
    checked = check_timeout(timeout)
    with _lock:
        _default_timeout = checked
