"""The aiohttp application: HTTP probes, one websocket route per namespace, test-control routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial

import anyio
from aiohttp import WSCloseCode, web

from .._version import __version__
from .api import Namespace
from .auth import authenticate
from .connection import Connection
from .control import add_control_routes
from .endpoints.diagnostics import build_diagnostics_namespace
from .endpoints.embedding import build_embedding_namespace
from .endpoints.files import build_files_namespace
from .endpoints.llm import build_llm_namespace
from .endpoints.repository import build_repository_namespace
from .endpoints.system import build_system_namespace
from .guard import GUARD_KEY, ConnectionGuard, guard_middleware
from .http_auth import REGISTRY_KEY, SELF_AUTHENTICATING_PATHS, http_auth_middleware
from .preload import preload_models
from .redact import loggable_identifier
from .rest import add_rest_routes
from .state import ServerState

__all__ = ["create_app", "build_namespaces"]

logger = logging.getLogger(__name__)

#: Largest client frame accepted (base64 uploads of big files travel in one frame).
MAX_FRAME_BYTES = 256 * 1024 * 1024
_CLOSE_TIMEOUT = 2.0


def build_namespaces() -> dict[str, Namespace]:
    namespaces = [
        build_llm_namespace(),
        build_embedding_namespace(),
        build_system_namespace(),
        build_files_namespace(),
        build_repository_namespace(),
        build_diagnostics_namespace(),
        # Accepted so that clients can connect; they have no endpoints here.
        Namespace("plugins"),
        Namespace("runtime"),
    ]
    return {namespace.name: namespace for namespace in namespaces}


class _OpenSockets:
    """Cancel scopes of the websocket handlers still running, so that shutdown can end them."""

    def __init__(self) -> None:
        self._scopes: set[anyio.CancelScope] = set()

    @contextmanager
    def track(self) -> Iterator[None]:
        with anyio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                yield
            finally:
                self._scopes.discard(scope)

    def cancel_all(self) -> None:
        for scope in list(self._scopes):
            scope.cancel()


def create_app(state: ServerState) -> web.Application:
    """The application serving ``state``; it starts and closes ``state.models`` with itself.

    Every route, present or added later, passes through the connection guard (timeouts,
    connection cap) and the HTTP token check; see ``guard.py`` and ``http_auth.py``.
    """
    config = state.config
    app = web.Application(middlewares=[guard_middleware, http_auth_middleware])
    app[GUARD_KEY] = ConnectionGuard(
        max_connections=config.max_connections,
        header_timeout=config.header_timeout,
        idle_timeout=config.idle_timeout,
    )
    app[REGISTRY_KEY] = state.clients
    sockets = _OpenSockets()

    async def greeting(request: web.Request) -> web.Response:
        return web.json_response({"lmstudio": True})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"package": "lmstudio-async", "version": __version__})

    app.router.add_get("/lmstudio-greeting", greeting)
    app.router.add_get("/lms-status", status)
    namespaces = build_namespaces()
    for name, namespace in namespaces.items():
        app.router.add_get(f"/{name}", partial(_serve_socket, namespace, state, sockets))
    app[SELF_AUTHENTICATING_PATHS] = frozenset(f"/{name}" for name in namespaces)
    if state.config.test_control:
        add_control_routes(app, state)
    add_rest_routes(app, state)

    async def models_lifetime(app: web.Application) -> AsyncIterator[None]:
        await state.models.start()
        try:
            await preload_models(state.models, config.preload)
        except BaseException:
            await state.models.aclose()
            raise
        yield
        await state.models.aclose()

    async def close_sockets(app: web.Application) -> None:
        sockets.cancel_all()

    app.cleanup_ctx.append(models_lifetime)
    app.on_shutdown.append(close_sockets)
    return app


async def _serve_socket(
    namespace: Namespace, state: ServerState, sockets: _OpenSockets, request: web.Request
) -> web.StreamResponse:
    ws = web.WebSocketResponse(
        compress=False,
        max_msg_size=MAX_FRAME_BYTES,
        decode_text=False,
        timeout=_CLOSE_TIMEOUT,
        # Pings every `heartbeat` s; no pong within half of that closes the socket, which
        # cancels whatever its channels were doing.
        heartbeat=state.config.heartbeat,
    )
    if not ws.can_prepare(request).ok:
        return web.Response(
            status=426,
            text=f"/{namespace.name} is an LM Studio websocket endpoint; connect with a websocket.",
        )
    guard = request.app[GUARD_KEY]
    guard.limit_unauthenticated(request)
    await ws.prepare(request)
    number = state.next_socket_number()
    close_code = WSCloseCode.GOING_AWAY
    with sockets.track():
        client = await authenticate(ws, state.clients, state.config.auth_timeout)
        if client is not None:
            guard.authenticated(request)
            logger.debug(
                "Socket %d: client %s on /%s",
                number,
                loggable_identifier(client.identifier),
                namespace.name,
            )
            connection = Connection(
                request=request,
                ws=ws,
                namespace=namespace,
                state=state,
                client=client,
                number=number,
            )
            try:
                await connection.serve()
                close_code = WSCloseCode.OK
            finally:
                state.clients.release(client.identifier)
    with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
        await ws.close(code=close_code)
    return ws
