"""A websocket relay that makes the *client* the bottleneck: ``python -m benchmarks.burst_relay``.

It sits between the clients and a real (scripted) server. At start it records,
from that server, one whole prediction (every frame of a ``predict`` channel)
and the reply of ``llm/listLoaded``. Then, for each client:

* a ``predict`` channel is answered from the recording, its frames written to
  the socket as fast as the socket takes them (one ``write`` per round of
  frames, round-robin across that socket's open channels, so concurrent streams
  interleave as they would from a busy server); a prompt containing
  ``burst-fragments=N`` gets the first N fragments, then the recorded end;
* ``llm/listLoaded`` is answered from the recording (made before the model was
  loaded: an empty list, so RPC figures measure the round trip, not a listing);
* everything else (authentication, model look-ups...) goes to the real server.

The server costs almost nothing per frame here (the frames are pre-encoded bytes),
so what is measured is the client. Cancels of burst channels are ignored.
Benchmark tool only: it trusts its clients and bounds nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import re
import sys
from collections import deque
from dataclasses import dataclass, field

import aiohttp
import msgspec

from lmstudio_async import AsyncClient

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_BURST_FRAGMENTS = re.compile(rb"burst-fragments=(\d+)")
_ROUND_BYTES = 256 * 1024
_MARK = 987654321987


class _Head(msgspec.Struct):
    type: str = ""
    endpoint: str | None = None
    channelId: int | None = None
    callId: int | None = None


_decode_head = msgspec.json.Decoder(_Head).decode
_encode = msgspec.json.Encoder().encode


def frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """An unmasked (server-to-client) websocket frame."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, size))
    elif size < 65536:
        header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


def _template(message: bytes, key: str) -> tuple[bytes, bytes]:
    """The frame split around its id field, to splice any id in."""
    data = msgspec.json.decode(message)
    data[key] = _MARK
    before, after = _encode(data).split(str(_MARK).encode())
    return before, after


@dataclass
class Recording:
    fragments: list[tuple[bytes, bytes]]
    ending: list[tuple[bytes, bytes]]
    list_loaded: tuple[bytes, bytes]

    def frames(self, channel_id: int, fragments: int | None) -> list[bytes]:
        cid = str(channel_id).encode()
        chosen = self.fragments if fragments is None else self.fragments[:fragments]
        return [frame(a + cid + b) for a, b in (*chosen, *self.ending)]


async def record(upstream: str, model: str) -> Recording:
    auth = {"authVersion": 1, "clientIdentifier": "guest:relay", "clientPasskey": "relay"}
    create = {
        "type": "channelCreate",
        "endpoint": "predict",
        "channelId": 1,
        "creationParameter": {
            "modelSpecifier": {"type": "query", "query": {"identifier": model}},
            "history": {"messages": [{"role": "user", "content": [{"type": "text", "text": "?"}]}]},
            "predictionConfigStack": {"layers": []},
        },
    }
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://{upstream}/llm", max_msg_size=0) as ws,
    ):
        await ws.send_str(_encode(auth).decode())
        await ws.receive()
        # Nothing loaded yet: the reply is tiny, so RPC figures measure the round trip itself.
        list_loaded = await _call(ws, "listLoaded")
        async with AsyncClient(upstream) as client:
            await client.llm.model(model)  # loaded, for the recording and for the clients
        await ws.send_str(_encode(create).decode())
        fragments: list[tuple[bytes, bytes]] = []
        ending: list[tuple[bytes, bytes]] = []
        while True:
            data = (await ws.receive()).data.encode()
            head = _decode_head(data)
            if head.channelId != 1:
                continue
            kind = msgspec.json.decode(data).get("message", {}).get("type")
            (fragments if kind == "fragment" else ending).append(_template(data, "channelId"))
            if head.type in ("channelClose", "channelError"):
                break
        return Recording(fragments, ending, list_loaded)


async def _call(ws: aiohttp.ClientWebSocketResponse[bool], endpoint: str) -> tuple[bytes, bytes]:
    await ws.send_str(_encode({"type": "rpcCall", "endpoint": endpoint, "callId": 1}).decode())
    while True:
        data = (await ws.receive()).data.encode()
        if _decode_head(data).callId == 1:
            return _template(data, "callId")


@dataclass
class _Connection:
    writer: asyncio.StreamWriter
    bursts: deque[deque[bytes]] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    burst_ids: set[int] = field(default_factory=set)


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    size = b1 & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if b1 & 0x80 else b""
    payload = await reader.readexactly(size)
    if mask:
        key = (mask * (size // 4 + 1))[:size]
        payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(
            size, "big"
        )
    return b0 & 0x0F, payload


async def _write_bursts(conn: _Connection) -> None:
    while True:
        await conn.wake.wait()
        conn.wake.clear()
        bursts = conn.bursts
        while bursts:
            chunk: list[bytes] = []
            size = 0
            while bursts and size < _ROUND_BYTES:
                for _ in range(len(bursts)):
                    burst = bursts.popleft()
                    data = burst.popleft()
                    chunk.append(data)
                    size += len(data)
                    if burst:
                        bursts.append(burst)
            conn.writer.write(b"".join(chunk))
            await conn.writer.drain()
            await asyncio.sleep(0)  # let new channels join the rotation


class Relay:
    def __init__(self, upstream: str, recording: Recording) -> None:
        self.upstream = upstream
        self.recording = recording
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        lines = request.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        if "sec-websocket-key" not in headers:
            body = b'{"lmstudio":true}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            return
        accept = base64.b64encode(
            hashlib.sha1(headers["sec-websocket-key"].encode() + _WS_GUID).digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        assert self.session is not None
        conn = _Connection(writer)
        async with self.session.ws_connect(
            f"ws://{self.upstream}{path}", max_msg_size=0, compress=0
        ) as upstream:
            tasks = [
                asyncio.ensure_future(_write_bursts(conn)),
                asyncio.ensure_future(self._downstream(upstream, writer)),
            ]
            try:
                await self._upstream(reader, upstream, conn)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _upstream(
        self,
        reader: asyncio.StreamReader,
        upstream: aiohttp.ClientWebSocketResponse[bool],
        conn: _Connection,
    ) -> None:
        recording = self.recording
        while True:
            opcode, payload = await _read_frame(reader)
            if opcode == 0x8:  # close
                conn.writer.write(frame(payload[:2], 0x8))
                return
            if opcode == 0x9:  # ping
                conn.writer.write(frame(payload, 0xA))
                continue
            if opcode not in (0x1, 0x2):
                continue
            head = _decode_head(payload) if payload.startswith(b"{") else _Head()
            if head.type == "channelCreate" and head.endpoint == "predict":
                assert head.channelId is not None
                found = _BURST_FRAGMENTS.search(payload)
                count = int(found.group(1)) if found else None
                conn.bursts.append(deque(recording.frames(head.channelId, count)))
                conn.burst_ids.add(head.channelId)
                conn.wake.set()
            elif head.type == "channelSend" and head.channelId in conn.burst_ids:
                continue  # a cancel: the burst is already on its way
            elif head.type == "rpcCall" and head.endpoint == "listLoaded":
                before, after = recording.list_loaded
                conn.writer.write(frame(before + str(head.callId).encode() + after))
            else:
                await upstream.send_str(payload.decode())

    async def _downstream(
        self, upstream: aiohttp.ClientWebSocketResponse[bool], writer: asyncio.StreamWriter
    ) -> None:
        async for message in upstream:
            if message.type is aiohttp.WSMsgType.TEXT:
                writer.write(frame(message.data.encode()))


async def serve(upstream: str, model: str) -> None:
    recording = await record(upstream, model)
    relay = Relay(upstream, recording)
    async with aiohttp.ClientSession() as session:
        relay.session = session
        server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print(
            f"recorded {len(recording.fragments)} fragments; listening on http://127.0.0.1:{port}",
            flush=True,
        )
        async with server:
            await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="host:port of the real server")
    parser.add_argument("--model", default="llama-3.2-1b-instruct")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.upstream, args.model))
    sys.exit(0)


if __name__ == "__main__":
    main()
