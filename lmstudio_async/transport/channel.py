"""One multiplexed channel: an async iterator of the typed packets the server sends on it.

The connection's reader task only appends raw payloads to the channel's buffer;
the consumer decodes them when it pulls, so routing stays cheap and a slow
consumer never stalls other channels. Waiting is bounded by an idle timeout
(the longest the server may stay silent), implemented with one timer handle per
wait rather than a timeout context per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..errors import LMStudioTimeoutError, LMStudioWebsocketError
from ..protocol import CancelPacket, ChannelSend, LenientDecoder, Raw, to_raw

__all__ = ["Channel"]

T = TypeVar("T")

_CANCEL = to_raw(CancelPacket())


class Channel(Generic[T]):
    """Packets of one ``channelCreate``; iterate with ``async for``.

    Iteration ends when the server closes the channel; a ``channelError`` or a
    lost socket raises. ``close()`` forgets the channel (later packets are
    dropped); it does not tell the server anything, so call :meth:`cancel`
    first to stop server-side work.
    """

    __slots__ = (
        "_buffer",
        "_cancel_sent",
        "_decoder",
        "_ended",
        "_error",
        "_label",
        "_release",
        "_send",
        "_send_soon",
        "_timeout",
        "_waiter",
        "channel_id",
        "endpoint",
    )

    def __init__(
        self,
        *,
        channel_id: int,
        endpoint: str,
        label: str,
        decoder: LenientDecoder[T],
        timeout: float,
        send: Callable[[ChannelSend], Any],
        send_soon: Callable[[ChannelSend], None],
        release: Callable[[int], None],
    ) -> None:
        self.channel_id = channel_id
        self.endpoint = endpoint
        self._label = label
        self._send = send
        self._send_soon = send_soon
        self._release = release
        self._decoder = decoder
        self._timeout = timeout
        self._buffer: deque[Raw] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._cancel_sent = False

    def __repr__(self) -> str:
        state = "ended" if self._ended else "open"
        return f"<Channel {self._label} id={self.channel_id} {state}>"

    # --- called by the connection's reader task --------------------------------

    def _feed(self, payload: Raw) -> None:
        self._buffer.append(payload)
        self._wake()

    def _end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- consumer side ------------------------------------------------------------

    @property
    def label(self) -> str:
        """``namespace/endpoint``, for messages."""
        return self._label

    @property
    def ended(self) -> bool:
        """The server closed or failed the channel (buffered packets may remain)."""
        return self._ended

    async def receive(self) -> T | None:
        """The next packet, or ``None`` once the server has closed the channel."""
        while True:
            buffer = self._buffer
            while buffer:
                packet = self._decoder.decode_or_warn(buffer.popleft())
                if packet is not None:
                    return packet
            if self._ended:
                if self._error is not None:
                    raise self._error
                return None
            await self._wait()

    async def receive_batch(self) -> list[T]:
        """Every packet already received (waiting for at least one); ``[]`` at the end.

        Lets a consumer in another thread take many packets per hand-over.
        """
        decode = self._decoder.decode_or_warn
        buffer = self._buffer
        while True:
            packets: list[T] = []
            while buffer:
                packet = decode(buffer.popleft())
                if packet is not None:
                    packets.append(packet)
            if packets:
                return packets
            if self._ended:
                if self._error is not None:
                    raise self._error
                return []
            await self._wait()

    async def _wait(self) -> None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = None
        if not math.isinf(self._timeout):
            timer = loop.call_later(self._timeout, self._expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _expire(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(
                LMStudioTimeoutError(
                    f"LM Studio sent nothing on the {self._label} stream for {self._timeout:g} s. "
                    "The server may be overloaded or stuck; raise `timeout` if this is expected."
                )
            )

    def __aiter__(self) -> Channel[T]:
        return self

    async def __anext__(self) -> T:
        packet = await self.receive()
        if packet is None:
            raise StopAsyncIteration
        return packet

    async def send(self, packet: Any) -> None:
        """Send a toServer packet on this channel."""
        await self._send(ChannelSend(channel_id=self.channel_id, message=to_raw(packet)))

    async def cancel(self) -> None:
        """Ask the server to stop this channel's work (sent at most once; a no-op once ended).

        If the socket is already gone there is nothing left to cancel, so that is
        not an error here.
        """
        if self._ended or self._cancel_sent:
            return
        self._cancel_sent = True
        with contextlib.suppress(LMStudioWebsocketError):
            await self._send(ChannelSend(channel_id=self.channel_id, message=_CANCEL))

    def cancel_soon(self) -> None:
        """Like :meth:`cancel`, without awaiting: for cleanup in cancelled tasks."""
        if self._ended or self._cancel_sent:
            return
        self._cancel_sent = True
        self._send_soon(ChannelSend(channel_id=self.channel_id, message=_CANCEL))

    @property
    def cancel_sent(self) -> bool:
        return self._cancel_sent

    def close(self) -> None:
        """Stop routing packets to this channel and free its id."""
        self._release(self.channel_id)
        self._end()
        self._buffer.clear()
