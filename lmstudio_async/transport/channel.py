"""One multiplexed channel: an async iterator of the typed packets the server sends on it.

The connection's reader task only appends each whole ``channelSend`` frame to
the channel's buffer (it read just the channel id); the consumer takes the
buffer as a whole and decodes each frame once, when it pulls, so routing stays
cheap and a slow consumer never stalls other channels.

Waiting is bounded by an idle timeout (the longest the server may stay silent
while the consumer waits). Rather than a timer per wait, each wait only moves
the channel's deadline; one timer per channel checks it when due and re-arms
itself while the consumer keeps receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
from collections import deque
from collections.abc import Awaitable, Generator
from typing import Any, Generic, Protocol, TypeVar

from ..errors import LMStudioTimeoutError, LMStudioWebsocketError
from ..protocol import CancelPacket, ChannelSend, LenientDecoder, to_raw

__all__ = ["Channel", "ChannelOwner"]

T = TypeVar("T")

_CANCEL = to_raw(CancelPacket())


class _Ready:
    """An awaitable that is done at once."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        yield from ()


_READY = _Ready()


class ChannelOwner(Protocol):
    """What a channel needs of its connection."""

    #: An empty context for the channels' idle timers: ``call_at`` would otherwise copy
    #: the caller's context for each timer, one more live object per stream.
    timer_context: contextvars.Context

    def send(self, envelope: ChannelSend) -> Awaitable[None]: ...

    def send_soon(self, envelope: ChannelSend) -> None: ...

    def release_channel(self, channel_id: int) -> None: ...


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
        "_deadline",
        "_decoder",
        "_ended",
        "_error",
        "_label",
        "_loop",
        "_owner",
        "_pending",
        "_quiet",
        "_taken",
        "_timeout",
        "_timer",
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
        owner: ChannelOwner,
    ) -> None:
        self.channel_id = channel_id
        self.endpoint = endpoint
        self._label = label
        self._owner = owner
        self._decoder = decoder
        self._timeout = timeout
        #: Whole ``channelSend`` frames, not decoded yet (the reader appends, ``take``
        #: decodes and empties it in place).
        self._buffer: list[str] = []
        #: How many frames at the start of the buffer were taken already (``take(limit)``).
        self._taken = 0
        #: Packets decoded but not handed out yet (``receive`` gives one at a time; made
        #: on first use, as streams take whole batches).
        self._pending: deque[T] | None = None
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        #: Open, and its consumer is not waiting: the reader may append its frames without
        #: looking at anything else (kept in step with ``_waiter`` and ``_ended``).
        self._quiet = True
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._cancel_sent = False

    def __repr__(self) -> str:
        state = "ended" if self._ended else "open"
        return f"<Channel {self._label} id={self.channel_id} {state}>"

    # --- called by the connection's reader task --------------------------------

    def _feed(self, frame: str) -> None:
        """A whole ``channelSend`` frame. (The reader inlines this on its hot path.)"""
        self._buffer.append(frame)
        if self._waiter is not None:
            self._wake()

    def _take_waiter(self) -> asyncio.Future[None] | None:
        """The waiting consumer's future, forgotten here: whoever takes it resolves it."""
        waiter, self._waiter = self._waiter, None
        self._quiet = not self._ended
        return waiter

    def _wake(self) -> None:
        waiter = self._take_waiter()
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
            self._wake()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- consumer side ------------------------------------------------------------

    @property
    def label(self) -> str:
        """``namespace/endpoint``, for messages."""
        return self._label

    @property
    def ended(self) -> bool:
        """The server closed or failed the channel (buffered packets may remain)."""
        return self._ended

    @property
    def has_packets(self) -> bool:
        """Something was received and not taken yet."""
        return len(self._buffer) > self._taken or bool(self._pending)

    def take(self, limit: int | None = None) -> list[T]:
        """Every packet received so far (at most ``limit`` frames of them), without
        waiting (``[]`` if none).

        Raises the channel's error once the buffer is drained and the channel failed.
        """
        frames = self._buffer
        pending = self._pending
        start = self._taken
        if len(frames) > start:
            if limit is not None and len(frames) - start > limit:
                # The rest stays raw: decoded objects, even untracked ones, count towards
                # the garbage collector's next collection while they are alive.
                self._taken = start + limit
                packets = self._decoder.decode_frames(frames[start : start + limit])
            else:
                packets = self._decoder.decode_frames(frames[start:] if start else frames)
                frames.clear()  # the same list again: one less live object per wait
                self._taken = 0
            if pending:
                packets[:0] = pending
                pending.clear()
            return packets
        if pending:
            packets = list(pending)
            pending.clear()
            return packets
        if self._error is not None:
            raise self._error
        return []

    async def receive(self) -> T | None:
        """The next packet, or ``None`` once the server has closed the channel."""
        pending = self._pending
        if pending is None:
            pending = self._pending = deque()
        while True:
            if pending:
                return pending.popleft()
            if self.has_packets:
                pending.extend(self.take())
                continue
            if self._ended:
                if self._error is not None:
                    raise self._error
                return None
            await self.wait()

    async def receive_batch(self) -> list[T]:
        """Every packet already received (waiting for at least one); ``[]`` at the end.

        Lets a consumer in another thread take many packets per hand-over.
        """
        while True:
            packets = self.take()
            if packets or self._ended:
                return packets
            await self.wait()

    def wait(self) -> Awaitable[None]:
        """Wait until something arrives or the channel ends (returns at once if either
        already happened); raises :class:`LMStudioTimeoutError` after ``timeout`` s of
        silence.

        Not a coroutine: it returns the future to await itself, which spares every
        wake-up of a stream one coroutine frame. Whoever resolves the future (the
        reader, the wake batcher, the idle timer) has already forgotten it, or finds it
        done, so nothing needs cleaning up after the await.
        """
        if self.has_packets or self._ended:
            return _READY
        loop = self._loop
        waiter = loop.create_future()
        self._waiter = waiter
        self._quiet = False
        timeout = self._timeout
        if timeout != math.inf:
            self._deadline = loop.time() + timeout
            if self._timer is None:
                self._timer = loop.call_at(
                    self._deadline, self._check_idle, context=self._owner.timer_context
                )
        return waiter

    def _check_idle(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done() or self._ended:
            return  # not waiting now: the next wait arms a timer again
        # Timers may fire up to the clock's resolution early; a millisecond is plenty.
        if self._loop.time() < self._deadline - 1e-3:
            self._timer = self._loop.call_at(
                self._deadline, self._check_idle, context=self._owner.timer_context
            )
            return
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
        await self._owner.send(ChannelSend(channel_id=self.channel_id, message=to_raw(packet)))

    async def cancel(self) -> None:
        """Ask the server to stop this channel's work (sent at most once; a no-op once ended).

        If the socket is already gone there is nothing left to cancel, so that is
        not an error here.
        """
        if self._ended or self._cancel_sent:
            return
        self._cancel_sent = True
        with contextlib.suppress(LMStudioWebsocketError):
            await self._owner.send(ChannelSend(channel_id=self.channel_id, message=_CANCEL))

    def cancel_soon(self) -> None:
        """Like :meth:`cancel`, without awaiting: for cleanup in cancelled tasks."""
        if self._ended or self._cancel_sent:
            return
        self._cancel_sent = True
        self._owner.send_soon(ChannelSend(channel_id=self.channel_id, message=_CANCEL))

    @property
    def cancel_sent(self) -> bool:
        return self._cancel_sent

    def close(self) -> None:
        """Stop routing packets to this channel and free its id."""
        self._owner.release_channel(self.channel_id)
        self._end()
        self._buffer = []
        self._taken = 0
        self._pending = None
