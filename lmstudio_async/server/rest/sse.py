"""Server-sent events: ``[event: <type>\\n]data: <json>\\n\\n`` frames on a streamed response.

A write to a client that went away raises :class:`ClientGone`, which ends the
handler and, through it, the prediction feeding the stream.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

__all__ = ["ClientGone", "EventStream", "client_gone"]

_ENCODE = msgspec.json.Encoder().encode
_DONE = b"data: [DONE]\n\n"


class ClientGone(Exception):
    """The HTTP client closed its connection; nobody reads what is produced any more."""


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class EventStream:
    """One SSE response; :meth:`open` sends the headers."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
            }
        )

    @property
    def response(self) -> web.StreamResponse:
        return self._response

    async def open(self) -> None:
        await self._response.prepare(self._request)

    async def write_raw(self, frame: bytes) -> None:
        """Send one complete frame (already ``data: ...\\n\\n``)."""
        try:
            await self._response.write(frame)
        except (ConnectionResetError, ConnectionError) as exc:
            raise ClientGone() from exc

    async def data(self, payload: Any) -> None:
        await self.write_raw(b"data: " + _ENCODE(payload) + b"\n\n")

    async def event(self, name: str, payload: Any) -> None:
        await self.write_raw(b"event: " + name.encode() + b"\ndata: " + _ENCODE(payload) + b"\n\n")

    async def done(self) -> None:
        await self.write_raw(_DONE)

    async def close(self) -> None:
        try:
            await self._response.write_eof()
        except (ConnectionResetError, ConnectionError) as exc:
            raise ClientGone() from exc
