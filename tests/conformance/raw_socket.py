"""A bare websocket client for checking our server's packets field by field (PROTOCOL.md 3)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import anyio

Json = dict[str, Any]
_TIMEOUT = 10.0


class RawSocket:
    """One authenticated namespace socket; one request in flight at a time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[bool]) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    @classmethod
    @asynccontextmanager
    async def connect(cls, api_host: str, namespace: str) -> AsyncIterator[RawSocket]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"ws://{api_host}/{namespace}") as ws,
        ):
            auth = {
                "authVersion": 1,
                "clientIdentifier": f"guest:{uuid.uuid4()}",
                "clientPasskey": str(uuid.uuid4()),
            }
            await ws.send_json(auth)
            with anyio.fail_after(_TIMEOUT):
                assert (await ws.receive_json())["success"] is True
            yield cls(ws)

    async def _receive(self) -> Json:
        with anyio.fail_after(_TIMEOUT):
            message: Json = await self._ws.receive_json()
        return message

    async def call(self, endpoint: str, parameter: Any = None) -> Json:
        """The ``rpcResult``/``rpcError`` envelope answering one call."""
        call_id = next(self._ids)
        envelope: Json = {"type": "rpcCall", "endpoint": endpoint, "callId": call_id}
        if parameter is not None:
            envelope["parameter"] = parameter
        await self._ws.send_json(envelope)
        reply = await self._receive()
        assert reply["callId"] == call_id
        return reply

    async def result(self, endpoint: str, parameter: Any = None) -> Any:
        reply = await self.call(endpoint, parameter)
        assert reply["type"] == "rpcResult", reply
        return reply.get("result")

    async def open(self, endpoint: str, parameter: Any) -> int:
        channel_id = next(self._ids)
        await self._ws.send_json(
            {
                "type": "channelCreate",
                "endpoint": endpoint,
                "channelId": channel_id,
                "creationParameter": parameter,
            }
        )
        return channel_id

    async def cancel(self, channel_id: int) -> None:
        await self._ws.send_json(
            {"type": "channelSend", "channelId": channel_id, "message": {"type": "cancel"}}
        )

    async def next_envelope(self, channel_id: int) -> Json:
        envelope = await self._receive()
        assert envelope["channelId"] == channel_id
        return envelope

    async def finish(self, channel_id: int) -> tuple[list[Json], Json]:
        """The channel's remaining packets, and its terminal envelope."""
        packets: list[Json] = []
        while True:
            envelope = await self.next_envelope(channel_id)
            if envelope["type"] != "channelSend":
                return packets, envelope
            packets.append(envelope["message"])

    async def run(self, endpoint: str, parameter: Any) -> tuple[list[Json], Json]:
        return await self.finish(await self.open(endpoint, parameter))


def query(identifier: str | None = None) -> Json:
    return {"type": "query", "query": {} if identifier is None else {"identifier": identifier}}


def layers(fields: dict[str, Any] | None = None, name: str = "apiOverride") -> Json:
    entries = [{"key": key, "value": value} for key, value in (fields or {}).items()]
    return {"layers": [{"layerName": name, "config": {"fields": entries}}]}


def history(text: str) -> Json:
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}
