"""The server side of one open channel: what a channel handler talks through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import anyio
import msgspec
from aiohttp import WSMsgType

from ..protocol import FragmentPacket, Raw, decoder_for
from ..protocol.codec import message_type_of
from .api import ChannelContext, ChannelEndpoint, ClientInfo
from .state import ServerState

__all__ = ["ServerChannel", "INBOX_SIZE"]

SendFrame = Callable[[bytes, WSMsgType], Awaitable[None]]

_ENCODE = msgspec.json.Encoder().encode
_JOIN = b"".join
_TEXT = WSMsgType.TEXT
# A handler streaming at full speed never waits for the socket; yielding this often lets the
# connection read the client's cancel packets (and other sockets get served) meanwhile.
_YIELD_EVERY = 64
#: Client packets queued for a handler that has not read them yet; more are dropped with a warning.
INBOX_SIZE = 256


class ServerChannel(ChannelContext):
    def __init__(
        self,
        *,
        state: ServerState,
        client: ClientInfo,
        namespace: str,
        endpoint: ChannelEndpoint[Any],
        channel_id: int,
        send_frame: SendFrame,
        abort_connection: Callable[[], Awaitable[NoReturn]],
    ) -> None:
        super().__init__(state=state, client=client, namespace=namespace, endpoint=endpoint.name)
        self.channel_id = channel_id
        # The envelope around every packet is fixed per channel, so it is encoded once; send()
        # then costs one encode of the packet itself.
        self._prefix = b'{"type":"channelSend","channelId":%d,"message":' % channel_id
        self._send_frame = send_frame
        self._abort_connection = abort_connection
        self._faults = state.faults
        self._counts_fragments = namespace == "llm" and endpoint.name == "predict"
        self._fragments_sent = 0
        self._sends = 0
        self._cancel = anyio.Event()
        self._inbox_writer, self._inbox = anyio.create_memory_object_stream[Any](INBOX_SIZE)
        to_server_type = endpoint.to_server_type
        self._decoder = decoder_for(to_server_type) if to_server_type is not None else None

    async def send(self, packet: Any) -> None:
        if (
            self._counts_fragments
            and self._faults.close_after_fragments is not None
            and type(packet) is FragmentPacket
        ):
            await self._send_fragment_under_fault(packet, self._faults.close_after_fragments)
            return
        try:
            await self._send_frame(_JOIN((self._prefix, _ENCODE(packet), b"}")), _TEXT)
        except ConnectionResetError:
            await self._abort_connection()
        self._sends += 1
        if self._sends % _YIELD_EVERY == 0:
            await asyncio.sleep(0)

    async def _send_fragment_under_fault(self, packet: FragmentPacket, limit: int) -> None:
        if self._fragments_sent >= limit:
            await self._abort_connection()
        try:
            await self._send_frame(_JOIN((self._prefix, _ENCODE(packet), b"}")), _TEXT)
        except ConnectionResetError:
            await self._abort_connection()
        self._fragments_sent += 1
        if self._fragments_sent >= limit:
            await self._abort_connection()

    async def receive(self) -> Any:
        try:
            return await self._inbox.receive()
        except anyio.EndOfStream:
            return None

    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    async def wait_cancel_requested(self) -> None:
        await self._cancel.wait()

    def deliver(self, message: Raw) -> str | None:
        """Queue a packet the client sent; returns a warning text if it cannot be used."""
        is_cancel = message_type_of(message) == "cancel"
        if is_cancel:
            self._cancel.set()
        if self._decoder is None:
            if is_cancel:
                return None
            return (
                f"Channel {self.channel_id} ({self.namespace}/{self.endpoint}) accepts no "
                f"messages, but got one of type {message_type_of(message)!r}"
            )
        try:
            packet = self._decoder.decode(message)
        except (msgspec.DecodeError, RecursionError) as exc:
            if is_cancel:
                return None
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return (
                f"Invalid message for channel {self.channel_id} "
                f"({self.namespace}/{self.endpoint}): {reason}"
            )
        try:
            self._inbox_writer.send_nowait(packet)
        except anyio.WouldBlock:
            return (
                f"Dropped a message for channel {self.channel_id} ({self.namespace}/"
                f"{self.endpoint}): {INBOX_SIZE} messages are already waiting to be handled"
            )
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return None
        return None

    def close_inbox(self) -> None:
        """The client can send no more: ``receive()`` returns ``None`` once the queue is drained."""
        self._inbox_writer.close()
