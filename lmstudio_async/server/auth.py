"""The auth handshake that opens every namespace socket (PROTOCOL.md 2)."""

from __future__ import annotations

import logging

import anyio
import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from ..protocol import AUTH_PACKET_DECODER, AUTH_VERSION, AuthPacket, AuthResult, encode
from .api import ClientInfo
from .clients import AuthRefused, ClientRegistry
from .redact import loggable_identifier

__all__ = ["authenticate"]

logger = logging.getLogger(__name__)

_MAX_CREDENTIAL_LENGTH = 256
#: Frames a socket may send before its auth packet (like LM Studio, they are skipped).
MAX_FRAMES_BEFORE_AUTH = 16


async def authenticate(
    ws: web.WebSocketResponse, registry: ClientRegistry, time_limit: float
) -> ClientInfo | None:
    """Run the handshake; the client on success, ``None`` once the socket is refused or gone.

    On success the client holds one reference in ``registry``, to be released
    when the socket closes.
    """
    packet: AuthPacket | None = None
    with anyio.move_on_after(time_limit) as deadline:
        packet = await _receive_auth_packet(ws)
    if deadline.cancelled_caught:
        await _refuse(ws, "Authentication timed out")
        return None
    if packet is None:
        return None
    try:
        _check_packet(packet)
        registry.acquire(packet.client_identifier, packet.client_passkey)
    except AuthRefused as exc:
        logger.info("Refused client %s: %s", loggable_identifier(packet.client_identifier), exc)
        await _refuse(ws, str(exc))
        return None
    try:
        await ws.send_frame(encode(AuthResult(success=True)), WSMsgType.TEXT)
    except ConnectionResetError:
        registry.release(packet.client_identifier)
        return None
    return ClientInfo(identifier=packet.client_identifier)


async def _receive_auth_packet(ws: web.WebSocketResponse) -> AuthPacket | None:
    # Like LM Studio, frames that are not an auth packet are skipped, not answered; but only a
    # few, and only the first is logged.
    for skipped in range(MAX_FRAMES_BEFORE_AUTH):
        message = await ws.receive()
        if message.type is WSMsgType.TEXT:
            try:
                return AUTH_PACKET_DECODER.decode(message.data)
            except (msgspec.DecodeError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                if skipped == 0:
                    logger.info("Ignored a frame that is not an auth packet: %.200s", reason)
        elif message.type is WSMsgType.BINARY:
            if skipped == 0:
                logger.info("Ignored a binary frame before authentication")
        else:
            return None
    await _refuse(ws, f"No auth packet among the first {MAX_FRAMES_BEFORE_AUTH} frames")
    return None


def _check_packet(packet: AuthPacket) -> None:
    if packet.auth_version != AUTH_VERSION:
        raise AuthRefused(
            f"Unsupported authVersion {packet.auth_version}; this server speaks version "
            f"{AUTH_VERSION}"
        )
    too_long = max(len(packet.client_identifier), len(packet.client_passkey))
    if too_long > _MAX_CREDENTIAL_LENGTH:
        raise AuthRefused(
            f"clientIdentifier and clientPasskey may have at most {_MAX_CREDENTIAL_LENGTH} "
            "characters"
        )


async def _refuse(ws: web.WebSocketResponse, error: str) -> None:
    try:
        await ws.send_frame(encode(AuthResult(success=False, error=error)), WSMsgType.TEXT)
    except ConnectionResetError:
        return
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"authentication failed")
