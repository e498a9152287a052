"""Channel packets however the server lays out its frames; the idle timeout counts from the
last packet, not from the first wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from lmstudio_async import AsyncClient, LMStudioTimeoutError, LMStudioUnknownMessageWarning
from lmstudio_async.protocol import FragmentPacket, PredictPacket, lenient_decoder_for

from .test_robustness import Script, scripted_peer  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio

PREDICT = lenient_decoder_for(PredictPacket, "llm/predict")


def fragment(text: str) -> dict[str, Any]:
    return {"type": "fragment", "fragment": {"content": text, "tokensCount": 1}}


async def send_raw(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
    await ws.send_str(json.dumps(frame, separators=(",", ":")))


async def test_any_field_order_unknown_packets_and_foreign_channels(
    scripted_peer: Callable[[Script], Awaitable[str]],  # noqa: F811
) -> None:
    async def script(ws: web.WebSocketResponse, create: dict[str, Any]) -> None:
        cid = create["channelId"]
        # The usual layout (read by the reader's fast path) ...
        await send_raw(ws, {"type": "channelSend", "channelId": cid, "message": fragment("a")})
        # ... another field order, spaces, an extra field (the general path) ...
        await ws.send_str(
            json.dumps(
                {"message": fragment("b"), "ackId": 3, "channelId": cid, "type": "channelSend"}
            )
        )
        # ... a packet type this SDK does not know, a channel nobody opened, a bad id ...
        await send_raw(ws, {"type": "channelSend", "channelId": cid, "message": {"type": "new"}})
        await send_raw(ws, {"type": "channelSend", "channelId": cid + 99, "message": fragment("x")})
        await ws.send_str('{"type":"channelSend","channelId":1e3,"message":{"type":"new2"}}')
        await send_raw(ws, {"type": "channelSend", "channelId": cid, "message": fragment("c")})
        await send_raw(ws, {"type": "channelClose", "channelId": cid})

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:

        async def receive_all() -> list[Any]:
            channel = await client._open_channel("llm", "predict", {}, PREDICT)
            return [packet async for packet in channel]

        with pytest.warns(LMStudioUnknownMessageWarning) as warned:
            packets = await receive_all()
        assert [p.fragment.content for p in packets if isinstance(p, FragmentPacket)] == [
            "a",
            "b",
            "c",
        ]
        assert len(packets) == 3
        messages = [str(w.message) for w in warned]
        assert len([m for m in messages if "'new'" in m]) == 1
        assert len([m for m in messages if "channelId" in m]) == 1  # the 1e3 id


async def test_the_idle_timeout_counts_from_the_last_packet(
    scripted_peer: Callable[[Script], Awaitable[str]],  # noqa: F811
) -> None:
    """Packets keep coming for longer than the timeout, each well within it; then silence."""

    async def script(ws: web.WebSocketResponse, create: dict[str, Any]) -> None:
        for i in range(12):
            await send_raw(
                ws,
                {
                    "type": "channelSend",
                    "channelId": create["channelId"],
                    "message": fragment(str(i)),
                },
            )
            await asyncio.sleep(0.25)
        await ws.receive()  # silence until the client gives up and closes

    host = await scripted_peer(script)
    async with AsyncClient(host, timeout=1.5) as client:
        channel = await client._open_channel("llm", "predict", {}, PREDICT)
        seen = 0
        with pytest.raises(LMStudioTimeoutError, match=r"sent nothing on the llm/predict"):
            async for _packet in channel:
                seen += 1
        assert seen == 12


async def test_a_waiting_consumer_gets_each_packet_while_its_channel_is_open(
    scripted_peer: Callable[[Script], Awaitable[str]],  # noqa: F811
) -> None:
    """The peer sends the next packet only once the consumer has the previous one, so a
    packet held back until the channel ends would stall the exchange (the reader appends
    a run of one channel's frames on a fast path, which must still wake a waiting consumer).
    """
    received: asyncio.Queue[str] = asyncio.Queue()
    stalled: list[int] = []

    async def script(ws: web.WebSocketResponse, create: dict[str, Any]) -> None:
        cid = create["channelId"]
        for i in range(8):
            await send_raw(
                ws, {"type": "channelSend", "channelId": cid, "message": fragment(str(i))}
            )
            try:
                # A safety net only: the consumer has each packet within milliseconds.
                assert await asyncio.wait_for(received.get(), 20) == str(i)
            except asyncio.TimeoutError:
                stalled.append(i)
                break
        await send_raw(ws, {"type": "channelClose", "channelId": cid})

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:
        channel = await client._open_channel("llm", "predict", {}, PREDICT)
        contents = []
        async for packet in channel:
            assert isinstance(packet, FragmentPacket)
            contents.append(packet.fragment.content)
            received.put_nowait(packet.fragment.content)
    assert stalled == [], f"packet {stalled} reached the consumer only when the channel ended"
    assert contents == [str(i) for i in range(8)]
