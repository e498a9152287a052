"""The request log of test-control mode: every frame clients sent after authenticating."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["RequestLog"]


class RequestLog:
    """Frames in arrival order, as ``{"namespace", "connection", "message"}`` dicts.

    ``message`` is the frame's decoded JSON, or its text when it is not JSON.
    """

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def record(self, namespace: str, connection: int, frame: str | bytes) -> None:
        try:
            message: Any = msgspec.json.decode(frame)
        except msgspec.DecodeError:
            message = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
        self._entries.append({"namespace": namespace, "connection": connection, "message": message})

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
