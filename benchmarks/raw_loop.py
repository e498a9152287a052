"""The practical limit: a minimal aiohttp + msgspec loop speaking LM Studio's protocol.

No routing, no validation, no timeouts: one socket, one request at a time. What
our client adds on top of this is its real overhead.
"""

from __future__ import annotations

import uuid
from types import TracebackType

import aiohttp
import msgspec

_encode = msgspec.json.Encoder().encode


class _Reply(msgspec.Struct):
    type: str
    callId: int | None = None


_decode_reply = msgspec.json.Decoder(_Reply).decode


class RawLoop:
    def __init__(self, api_host: str, namespace: str) -> None:
        self._url = f"ws://{api_host}/{namespace}"
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._next_id = 0

    async def __aenter__(self) -> RawLoop:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self._url)
        auth = {
            "authVersion": 1,
            "clientIdentifier": f"guest:{uuid.uuid4()}",
            "clientPasskey": str(uuid.uuid4()),
        }
        await self._ws.send_frame(_encode(auth), aiohttp.WSMsgType.TEXT)
        await self._ws.receive()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._ws is not None and self._session is not None
        await self._ws.close()
        await self._session.close()

    async def call(self, endpoint: str) -> None:
        """One parameterless RPC, waiting for its reply."""
        assert self._ws is not None
        self._next_id += 1
        call = {"type": "rpcCall", "endpoint": endpoint, "callId": self._next_id}
        await self._ws.send_frame(_encode(call), aiohttp.WSMsgType.TEXT)
        while True:
            message = await self._ws.receive()
            if _decode_reply(message.data).callId == self._next_id:
                return


class _Fragment(msgspec.Struct):
    content: str


class _Packet(msgspec.Struct):
    type: str
    fragment: _Fragment | None = None


class _ChannelMessage(msgspec.Struct):
    type: str
    channelId: int | None = None
    message: _Packet | None = None


_decode_channel_message = msgspec.json.Decoder(_ChannelMessage).decode


async def stream_prediction(loop: RawLoop, model_identifier: str, prompt: str) -> int:
    """Run one ``predict`` channel to its ``success`` packet; returns the fragment count.

    Every frame is parsed (as any client must, to find its channel and the text).
    """
    assert loop._ws is not None
    create = {
        "type": "channelCreate",
        "endpoint": "predict",
        "channelId": 1,
        "creationParameter": {
            "modelSpecifier": {"type": "query", "query": {"identifier": model_identifier}},
            "history": {
                "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
            },
            "predictionConfigStack": {"layers": []},
        },
    }
    await loop._ws.send_frame(_encode(create), aiohttp.WSMsgType.TEXT)
    fragments = 0
    while True:
        message = await loop._ws.receive()
        envelope = _decode_channel_message(message.data)
        packet = envelope.message
        if packet is None:
            continue
        if packet.fragment is not None:
            fragments += 1
        elif packet.type == "success":
            return fragments


async def stream_many(loop: RawLoop, model_identifier: str, prompt: str, streams: int) -> int:
    """Run ``streams`` ``predict`` channels at once on the one socket; returns all fragments.

    The least a concurrent client must do: route each frame by its channel id.
    """
    assert loop._ws is not None
    ws = loop._ws
    first = loop._next_id + 1
    loop._next_id += streams
    for channel_id in range(first, first + streams):
        create = {
            "type": "channelCreate",
            "endpoint": "predict",
            "channelId": channel_id,
            "creationParameter": {
                "modelSpecifier": {"type": "query", "query": {"identifier": model_identifier}},
                "history": {
                    "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
                },
                "predictionConfigStack": {"layers": []},
            },
        }
        await ws.send_frame(_encode(create), aiohttp.WSMsgType.TEXT)
    counts = dict.fromkeys(range(first, first + streams), 0)
    open_channels = streams
    fragments = 0
    while open_channels:
        envelope = _decode_channel_message((await ws.receive()).data)
        packet = envelope.message
        if packet is None or envelope.channelId not in counts:
            continue
        if packet.fragment is not None:
            counts[envelope.channelId] += 1
            fragments += 1
        elif packet.type == "success":
            open_channels -= 1
    return fragments
