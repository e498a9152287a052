"""The request log of test-control mode: every frame clients sent after authenticating.

Bounded: it keeps the newest ``max_entries`` frames, and at most
:data:`MAX_LOGGED_BYTES` of them in all; a frame larger than
:data:`MAX_LOGGED_FRAME_BYTES` is kept as a short description, not in full.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec

__all__ = ["RequestLog", "MAX_LOGGED_FRAME_BYTES", "MAX_LOGGED_BYTES"]

MAX_LOGGED_FRAME_BYTES = 1024 * 1024
MAX_LOGGED_BYTES = 64 * 1024 * 1024
_EXCERPT = 200


class RequestLog:
    """Frames in arrival order, as ``{"namespace", "connection", "message"}`` dicts.

    ``message`` is the frame's decoded JSON, or its text when it is not JSON. A
    frame too large (or too deeply nested) to keep is logged as
    ``{"omitted": "<why>", "bytes": N, "start": "<first characters>"}``.
    """

    def __init__(self, max_entries: int = 10_000, max_bytes: int = MAX_LOGGED_BYTES) -> None:
        self._entries: deque[tuple[int, dict[str, Any]]] = deque()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
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
        size = min(len(frame), MAX_LOGGED_FRAME_BYTES)
        entry = {"namespace": namespace, "connection": connection, "message": message}
        self._entries.append((size, entry))
        self._bytes += size
        while self._entries and (
            len(self._entries) > self._max_entries or self._bytes > self._max_bytes
        ):
            dropped_size, _ = self._entries.popleft()
            self._bytes -= dropped_size
            self.dropped += 1

    def entries(self) -> list[dict[str, Any]]:
        return [entry for _, entry in self._entries]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def _omitted(why: str, frame: str | bytes) -> dict[str, Any]:
    start = frame[:_EXCERPT]
    text = start if isinstance(start, str) else start.decode("utf-8", "replace")
    return {"omitted": why, "bytes": len(frame), "start": text}
