"""Opening a namespace's websocket and authenticating on it, with clear errors for each
way that can fail (refused, unreachable, too slow, not LM Studio, wrong credentials)."""

from __future__ import annotations

import asyncio
import math

import aiohttp
import msgspec

from ..errors import LMStudioAuthenticationError, LMStudioClientError, LMStudioTimeoutError
from ..protocol import AUTH_RESULT_DECODER, encode
from .credentials import Credentials
from .hosts import LOCAL_SERVER_HINT, ApiHost

__all__ = ["authenticate", "open_websocket"]

_TEXT = aiohttp.WSMsgType.TEXT
# Model listings and embeddings can be large; the server is trusted.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Protocol-level pings detect a peer that vanished without closing (e.g. after sleep).
HEARTBEAT_SECONDS = 30.0


async def open_websocket(
    session: aiohttp.ClientSession, api_host: ApiHost, namespace: str, timeout: float
) -> aiohttp.ClientWebSocketResponse[bool]:
    """The websocket for ``namespace``, or a clear error saying why there is none."""
    try:
        return await asyncio.wait_for(
            session.ws_connect(
                api_host.ws_url(namespace),
                autoping=True,
                heartbeat=HEARTBEAT_SECONDS,
                max_msg_size=MAX_MESSAGE_BYTES,
            ),
            None if math.isinf(timeout) else timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise LMStudioClientError(
            f"The server at {api_host} refused the websocket for /{namespace} "
            f"(HTTP {exc.status}). Is this LM Studio's API port?"
        ) from exc
    except asyncio.TimeoutError as exc:
        # Caught first: on Python 3.11+ TimeoutError is also an OSError.
        raise LMStudioTimeoutError(
            f"Connecting to LM Studio at {api_host} took longer than {timeout:g} s."
        ) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise LMStudioClientError(
            f"LM Studio is not reachable at {api_host}. "
            f"Is LM Studio running, with its server enabled? {LOCAL_SERVER_HINT}"
        ) from exc


async def authenticate(
    ws: aiohttp.ClientWebSocketResponse[bool],
    credentials: Credentials,
    api_host: ApiHost,
    namespace: str,
    timeout: float,
) -> None:
    """Send the credentials and check the server's answer."""
    await ws.send_frame(encode(credentials.auth_packet()), _TEXT)
    try:
        reply = await ws.receive(None if math.isinf(timeout) else timeout)
    except asyncio.TimeoutError as exc:
        raise LMStudioTimeoutError(
            f"LM Studio at {api_host} did not answer the authentication of "
            f"/{namespace} within {timeout:g} s."
        ) from exc
    if reply.type != _TEXT:
        raise LMStudioClientError(
            f"The server at {api_host} closed /{namespace} during authentication. "
            "Is this LM Studio's API port?"
        )
    try:
        result = AUTH_RESULT_DECODER.decode(reply.data)
    except msgspec.DecodeError as exc:
        raise LMStudioClientError(
            f"The server at {api_host} sent an unexpected authentication reply on "
            f"/{namespace} ({exc}). Is this LM Studio's API port?"
        ) from exc
    if not result.success:
        reason = result.error or "no reason given"
        raise LMStudioAuthenticationError(
            f"LM Studio at {api_host} refused the client's credentials: {reason}. "
            "If the server requires authentication, pass api_token= or set LM_API_TOKEN.",
            title="Authentication failed",
            cause=reason,
        )
