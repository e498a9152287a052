"""llama.cpp's own log lines, routed to Python logging instead of straight to stderr.

llama-cpp-python prints llama.cpp's error-level lines to stderr even with
``verbose=False``, including notices about choices this engine makes on purpose (it
asks for mean pooling on models without a pooling type of their own, and llama.cpp says
so). Here they go to the ``lmstudio_async.server.llama_cpp`` logger: errors as warnings,
the rest at debug level, so ``--verbose`` shows them and a normal run stays quiet.
"""

from __future__ import annotations

import ctypes
import logging

import llama_cpp

__all__ = ["route_native_log"]

logger = logging.getLogger("lmstudio_async.server.llama_cpp")

#: Lines about settings this engine chose deliberately.
_EXPECTED = (b"pooling_type",)
_ERROR = 3
_CONTINUE = 5


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    if level == _CONTINUE or not text.strip():
        return
    serious = level == _ERROR and not any(part in text for part in _EXPECTED)
    logger.log(logging.WARNING if serious else logging.DEBUG, "llama.cpp: %s", _decode(text))


def _decode(text: bytes) -> str:
    return text.decode("utf-8", errors="replace").rstrip()


def route_native_log() -> None:
    """Install the routing (llama.cpp keeps one callback per process; this replaces it)."""
    llama_cpp.llama_log_set(_log, ctypes.c_void_p(0))
