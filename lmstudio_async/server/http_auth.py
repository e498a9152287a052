"""API-token checks for plain HTTP routes, as LM Studio does with "Require Authentication" on.

Websocket namespace routes authenticate with their auth packet (``auth.py``);
every other route, including ``/lmstudio-test/*`` and REST routes added later,
goes through :func:`http_auth_middleware`: with ``--api-token`` given, a request
needs ``Authorization: Bearer <token>`` (REST.md 1). Only the discovery probes
stay open, because clients call them before they know they need a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .clients import ClientRegistry

__all__ = ["PUBLIC_PATHS", "REGISTRY_KEY", "SELF_AUTHENTICATING_PATHS", "http_auth_middleware"]

#: Paths answered without a token: LM Studio's discovery probes.
PUBLIC_PATHS = frozenset({"/lmstudio-greeting", "/lms-status"})

REGISTRY_KEY = web.AppKey("client_registry", ClientRegistry)
#: Websocket paths that run their own auth handshake (set by ``create_app``).
SELF_AUTHENTICATING_PATHS = web.AppKey("self_authenticating_paths", frozenset)

_MISSING = (
    "An LM Studio API token is required to make requests to this server, but none was provided "
    "using the Authorization header using the 'Bearer' scheme."
)
_INVALID = "The LM Studio API token in the Authorization header is not valid for this server."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def http_auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    registry = request.app[REGISTRY_KEY]
    path = request.path
    if (
        not registry.token_required
        or path in PUBLIC_PATHS
        or path in request.app.get(SELF_AUTHENTICATING_PATHS, frozenset())
    ):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized(_MISSING)
    if not registry.accepts_token(token.strip()):
        return _unauthorized(_INVALID)
    return await handler(request)


def _unauthorized(message: str) -> web.Response:
    body = {"error": {"type": "invalid_request", "code": "invalid_api_key", "message": message}}
    return web.json_response(body, status=401)
