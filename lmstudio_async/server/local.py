"""Run the server inside the current event loop (for tests and embedding)."""

from __future__ import annotations

import dataclasses
import socket
import sys
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import create_app
from .config import ServerConfig
from .faults import FaultPlan
from .state import ServerState

__all__ = ["LocalServer"]

_SHUTDOWN_TIMEOUT = 5.0


class LocalServer:
    """An LM Studio-compatible server running in this event loop.

    ``LocalServer(port=0)`` takes the same keyword settings as :class:`ServerConfig`
    (``port=0`` picks a free port)::

        async with LocalServer(port=0) as server:
            client = AsyncClient(server.api_host)
            ...

    ``faults`` pre-loads a fault plan (see :mod:`lmstudio_async.server.faults`).
    Leaving the ``async with`` block closes every socket, task and listener.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        faults: FaultPlan | None = None,
        **overrides: Any,
    ) -> None:
        self.config = dataclasses.replace(config or ServerConfig(), **overrides)
        self.state = ServerState.create(self.config, faults)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; use 'async with LocalServer(...)'")
        return self._port

    @property
    def api_host(self) -> str:
        """``host:port`` as clients expect it (e.g. ``"127.0.0.1:41343"``)."""
        host = self.config.host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.api_host}"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the server is already running")
        runner = web.AppRunner(
            create_app(self.state),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            sock = _listening_socket(self.config.host, self.config.port)
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = sock.getsockname()[1]

    async def aclose(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _listening_socket(host: str, port: int) -> socket.socket:
    # Binding ourselves (rather than through aiohttp) tells us the real port when port is 0.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
