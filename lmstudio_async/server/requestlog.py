"""The request log of test-control mode: every frame clients sent after authenticating.

Bounded: it keeps the newest ``max_entries`` frames, and a frame larger than
:data:`MAX_LOGGED_FRAME_BYTES` is kept as a short description, not in full.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec

__all__ = ["RequestLog", "MAX_LOGGED_FRAME_BYTES"]

MAX_LOGGED_FRAME_BYTES = 1024 * 1024
_EXCERPT = 200


class RequestLog:
    """Frames in arrival order, as ``{"namespace", "connection", "message"}`` dicts.

    ``message`` is the frame's decoded JSON, or its text when it is not JSON. A
    frame too large (or too deeply nested) to keep is logged as
    ``{"omitted": "<why>", "bytes": N, "start": "<first characters>"}``.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        #: Frames dropped from the front because the log was full.
        self.dropped = 0

    def record(self, namespace: str, connection: int, frame: str | bytes) -> None:
        message: Any
        if len(frame) > MAX_LOGGED_FRAME_BYTES:
            message = _omitted("larger than the request log keeps", frame)
        else:
            try:
                message = msgspec.json.decode(frame)
            except msgspec.DecodeError:
                message = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
            except RecursionError:
                message = _omitted("nested too deeply", frame)
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        self._entries.append({"namespace": namespace, "connection": connection, "message": message})

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def _omitted(why: str, frame: str | bytes) -> dict[str, Any]:
    start = frame[:_EXCERPT]
    text = start if isinstance(start, str) else start.decode("utf-8", "replace")
    return {"omitted": why, "bytes": len(frame), "start": text}
