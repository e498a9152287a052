"""``Authorization: Bearer <token>`` on the HTTP APIs when the server has API tokens (REST.md 1).

:func:`token_problem` is the whole check, independent of routing, so that a
server-wide middleware can call it; :func:`rest_middleware` applies it to the
REST route prefixes and answers LM Studio's way for routes that do not exist.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from ...protocol import split_api_token
from .errors import RestError, unexpected_endpoint

__all__ = ["REST_PREFIXES", "is_rest_path", "token_problem", "rest_middleware"]

#: Paths served by this package; everything else (websockets, probes) is left alone.
REST_PREFIXES = ("/v1/", "/api/v0/", "/api/v1/")

_MISSING = (
    "An LM Studio API token is required to make requests to this server, but none was "
    "provided using the Authorization header using the 'Bearer' scheme. Create a token in "
    "the server settings and send it as 'Authorization: Bearer <token>'."
)
_INVALID = (
    "The LM Studio API token provided in the Authorization header is not valid for this server."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_rest_path(path: str) -> bool:
    return path.startswith(REST_PREFIXES) or path in ("/v1", "/api/v0", "/api/v1")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def token_problem(authorization: str | None, tokens: Sequence[str]) -> RestError | None:
    """Why a request with this ``Authorization`` header is refused, or ``None`` if it may pass.

    With no tokens configured every request passes, whatever it sends (LM Studio's default).
    The token's value never appears in the error.
    """
    if not tokens:
        return None
    scheme, _, credential = (authorization or "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return RestError(401, _MISSING, type="invalid_request", code="invalid_api_key")
    well_formed = split_api_token(credential) is not None
    # Every token is compared, so timing does not tell which one came close.
    matched = False
    for token in tokens:
        matched |= _same(token, credential)
    if not (well_formed and matched):
        return RestError(401, _INVALID, type="invalid_request", code="invalid_api_key")
    return None


def rest_middleware(tokens: Sequence[str]) -> Middleware:
    """Auth for the REST routes, and LM Studio's 200 answer for REST paths no route serves."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_rest_path(request.rel_url.path):
            return await handler(request)
        problem = token_problem(request.headers.get("Authorization"), tokens)
        if problem is not None:
            return problem.response(native=request.rel_url.path.startswith("/api/v1/"))
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            return unexpected_endpoint(request)
        except web.HTTPRequestEntityTooLarge as exc:  # e.g. the guard read the body first
            native = request.rel_url.path.startswith("/api/v1/")
            too_large = RestError(413, f"The request body is too large: {exc.text}")
            return too_large.response(native=native)

    return middleware
