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
from .guard import GUARD_KEY, ConnectionGuard, GuardedSite
from .state import ServerState

__all__ = ["LocalServer", "PortInUseError"]

_SHUTDOWN_TIMEOUT = 5.0


class PortInUseError(OSError):
    """The server cannot listen on a port (usually: another program already does)."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        super().__init__(cause.errno, f"cannot listen on {host}:{port}: {cause.strerror}")
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.args[1])


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
        self._sdk_port: int | None = None
        self._guard: ConnectionGuard | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; use 'async with LocalServer(...)'")
        return self._port

    @property
    def guard(self) -> ConnectionGuard:
        """The connection guard of the running server (its counters show what it refused)."""
        if self._guard is None:
            raise RuntimeError("the server has not been started")
        return self._guard

    @property
    def sdk_port(self) -> int | None:
        """The second (SDK discovery) port, if the server listens on one."""
        return self._sdk_port

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
        app = create_app(self.state)
        self._guard = app[GUARD_KEY]
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
            keepalive_timeout=self.config.idle_timeout,
        )
        await runner.setup()
        ports = [self.config.port]
        if self.config.sdk_port is not None:
            ports.append(self.config.sdk_port)
        bound: list[int] = []
        try:
            for port in ports:
                sock = _listening_socket(self.config.host, port)
                site = GuardedSite(runner, sock, app[GUARD_KEY])
                await site.start()
                bound.append(sock.getsockname()[1])
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = bound[0]
        self._sdk_port = bound[1] if len(bound) > 1 else None

    async def aclose(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._port = None
        self._sdk_port = None

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
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUseError(host, port, exc) from exc
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
