"""A raw websocket client for driving the server frame by frame in tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio

RECEIVE_TIMEOUT = 5.0


class RawSocket:
    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse[bool], auth_reply: dict[str, Any]
    ) -> None:
        self.ws = ws
        self.auth_reply = auth_reply

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def send_text(self, text: str) -> None:
        await self.ws.send_str(text)

    async def receive(self, within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        with anyio.fail_after(within):
            message = await self.ws.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {message.type!r} {message.data!r}")
        result: dict[str, Any] = message.json()
        return result

    async def receive_until(
        self, message_type: str, within: float = RECEIVE_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Every message up to and including the first of ``message_type``."""
        received = []
        with anyio.fail_after(within):
            while True:
                message = await self.receive()
                received.append(message)
                if message["type"] == message_type:
                    return received

    async def call(self, endpoint: str, parameter: Any = None, call_id: int = 1) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "rpcCall", "endpoint": endpoint, "callId": call_id}
        if parameter is not None:
            message["parameter"] = parameter
        await self.send(message)
        reply = await self.receive()
        assert reply.get("callId") == call_id, reply
        return reply

    async def expect_closed(self, within: float = RECEIVE_TIMEOUT) -> None:
        with anyio.fail_after(within):
            message = await self.ws.receive()
        assert message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.ERROR,
        ), message


def guest_identifier() -> str:
    return f"guest:{uuid.uuid4()}"


@asynccontextmanager
async def open_socket(
    api_host: str,
    namespace: str,
    *,
    identifier: str | None = None,
    passkey: str = "passkey",
    auth: bool = True,
) -> AsyncIterator[RawSocket]:
    """A websocket on ``/namespace``; authenticated unless ``auth`` is false.

    The auth reply is in ``.auth_reply`` (empty when ``auth`` is false); a
    refused socket is returned too, so tests can inspect the refusal.
    """
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://{api_host}/{namespace}") as ws,
    ):
        reply: dict[str, Any] = {}
        if auth:
            await ws.send_json(
                {
                    "authVersion": 1,
                    "clientIdentifier": identifier or guest_identifier(),
                    "clientPasskey": passkey,
                }
            )
            with anyio.fail_after(RECEIVE_TIMEOUT):
                reply = await ws.receive_json()
        yield RawSocket(ws, reply)


async def wait_until(condition: Callable[[], bool], within: float = RECEIVE_TIMEOUT) -> None:
    """Poll server-side state that has no event to wait on."""
    with anyio.fail_after(within):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.01)
