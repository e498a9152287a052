"""What every TCP connection to the server is held to, whatever route it ends up on.

aiohttp bounds header sizes but not how long headers may take, nor how many
connections may be open, nor how much an unauthenticated websocket may send.
:class:`ConnectionGuard` wraps aiohttp's per-connection protocol to add:

- a **connection cap**: when it is reached, the oldest connection that is not
  handling a request (still sending its headers, or idle between requests) is
  dropped to make room, since slow or silent sockets are the ones that pile up;
  if every connection is busy, the new one is closed at once. Well-behaved
  clients, which send their request right away, keep being served while a flood
  of silent sockets is refused.
- a **request deadline**: a connection must send its first request's headers
  within ``header_timeout``, and each further request within ``idle_timeout`` of
  the previous response; otherwise it is closed.
- a **byte budget before login**: a websocket that has not authenticated may
  receive at most :data:`UNAUTHENTICATED_BYTES` bytes; beyond that it is dropped
  before aiohttp buffers a large frame.

The guard learns of requests through :func:`guard_middleware`, so every route of
the application (websocket, HTTP probes, test control, REST routes added later)
is covered without registering anything.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_runner import BaseRunner, BaseSite

__all__ = [
    "ConnectionGuard",
    "GuardedSite",
    "UNAUTHENTICATED_BYTES",
    "guard_middleware",
    "GUARD_KEY",
]

logger = logging.getLogger(__name__)

#: What an unauthenticated websocket may send: an auth packet is a few hundred bytes.
UNAUTHENTICATED_BYTES = 64 * 1024


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the guard's bookkeeping around it."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner = inner
        self._guard = guard
        self.transport: asyncio.Transport | None = None
        #: Bytes this connection may still receive (``None``: no budget applies).
        self.byte_budget: int | None = None
        #: Whether a request is being handled (the connection is then never evicted).
        self.active = False
        self._deadline: asyncio.TimerHandle | None = None

    # asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.inner.connection_made(transport)
        self._guard._opened(self)

    def data_received(self, data: bytes) -> None:
        if self.byte_budget is not None:
            self.byte_budget -= len(data)
            if self.byte_budget < 0:
                self._guard.refused_oversized += 1
                self.close()
                return
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._guard._closed(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # bookkeeping ----------------------------------------------------------------------

    def expect_request_within(self, seconds: float) -> None:
        self._cancel_deadline()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(seconds, self._missed_deadline)

    def _missed_deadline(self) -> None:
        self._deadline = None
        if not self.active:
            self._guard.timed_out += 1
            self.close()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def close(self) -> None:
        self._cancel_deadline()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


class ConnectionGuard:
    """Counts, times and budgets every connection of one server (see the module doc)."""

    def __init__(self, *, max_connections: int, header_timeout: float, idle_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        # Insertion-ordered: the first entries are the oldest connections.
        self._open: dict[asyncio.BaseTransport, _GuardedProtocol] = {}
        #: Counters, for tests and diagnostics.
        self.refused_full = 0
        self.evicted = 0
        self.timed_out = 0
        self.refused_oversized = 0

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def protocol_factory(self, inner_factory: Callable[[], asyncio.Protocol]) -> Callable[[], Any]:
        def factory() -> _GuardedProtocol:
            return _GuardedProtocol(inner_factory(), self)

        return factory

    def _opened(self, connection: _GuardedProtocol) -> None:
        assert connection.transport is not None
        if len(self._open) >= self.max_connections and not self._evict_one():
            self.refused_full += 1
            if self.refused_full == 1 or self.refused_full % 1000 == 0:
                logger.warning(
                    "Connection cap (%d) reached: refused %d connection(s) so far",
                    self.max_connections,
                    self.refused_full,
                )
            connection.transport.abort()
            return
        self._open[connection.transport] = connection
        connection.expect_request_within(self.header_timeout)

    def _evict_one(self) -> bool:
        for other in self._open.values():
            if not other.active:
                self.evicted += 1
                other.close()
                # abort() reports connection_lost later; forget it now to make room at once.
                assert other.transport is not None
                self._open.pop(other.transport, None)
                return True
        return False

    def _closed(self, connection: _GuardedProtocol) -> None:
        if connection.transport is not None:
            self._open.pop(connection.transport, None)

    def connection_of(self, request: web.BaseRequest) -> _GuardedProtocol | None:
        transport = request.transport
        return None if transport is None else self._open.get(transport)

    def limit_unauthenticated(self, request: web.BaseRequest) -> None:
        """From now on, until :meth:`authenticated`, the connection may receive little data."""
        connection = self.connection_of(request)
        if connection is not None:
            connection.byte_budget = UNAUTHENTICATED_BYTES

    def authenticated(self, request: web.BaseRequest) -> None:
        connection = self.connection_of(request)
        if connection is not None:
            connection.byte_budget = None


GUARD_KEY = web.AppKey("connection_guard", ConnectionGuard)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Marks the connection busy while a request runs, then starts its idle deadline.

    A request body (bounded by aiohttp's ``client_max_size``) must arrive within the
    header timeout too; it is read here, and the handler reads it from memory.
    """
    guard = request.app.get(GUARD_KEY)
    connection = guard.connection_of(request) if guard is not None else None
    if connection is None:
        return await handler(request)
    assert guard is not None
    connection.active = True
    try:
        if request.body_exists and request.headers.get("Upgrade", "").lower() != "websocket":
            try:
                await asyncio.wait_for(request.read(), guard.header_timeout)
            except asyncio.TimeoutError:
                guard.timed_out += 1
                connection.close()
                return web.Response(status=408, text="The request body took too long.")
        return await handler(request)
    finally:
        connection.active = False
        connection.expect_request_within(guard.idle_timeout)


class GuardedSite(BaseSite):
    """A listening socket whose connections go through a :class:`ConnectionGuard`."""

    __slots__ = ("_guard", "_name", "_sock")

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        guard: ConnectionGuard,
    ) -> None:
        super().__init__(runner)
        self._sock = sock
        self._guard = guard
        host, port = sock.getsockname()[:2]
        self._name = f"http://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard.protocol_factory(server), sock=self._sock, backlog=self._backlog
        )
