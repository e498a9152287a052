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


def check_timeout(value: float, name: str = "timeout") -> float:
    """Validate a timeout in seconds (``math.inf`` disables it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise LMStudioValueError(f"{name} must be a number of seconds, not {value!r}.")
    if value <= 0:
        raise LMStudioValueError(
            f"{name} must be positive, not {value!r}; use math.inf to wait without limit."
        )
    return float(value)


def get_default_timeout() -> float:
    """Seconds any client waits for the server when it was given no ``timeout``."""
    return _default_timeout


def set_default_timeout(timeout: float) -> None:
    """Set the timeout of clients created from now on without a ``timeout`` of their own."""
    global _default_timeout
    checked = check_timeout(timeout)
    with _lock:
        _default_timeout = checked
