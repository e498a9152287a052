"""One authenticated websocket to one namespace, multiplexing RPCs and channels.

A single reader task per socket routes ``callId`` replies to the waiting call's
future and ``channelId`` packets to their channel. When the socket is lost,
every pending call and channel fails at once with
:class:`~lmstudio_async.errors.LMStudioWebsocketError`; the connection is then
dead and the client opens a fresh one on the next call.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp

from ..errors import (
    LMStudioServerError,
    LMStudioWebsocketError,
)
from ..protocol import (
    SERVER_MESSAGE_DECODER,
    ChannelClose,
    ChannelCreate,
    ChannelError,
    ChannelSend,
    CommunicationWarning,
    Envelope,
    LenientDecoder,
    Raw,
    RpcCall,
    RpcError,
    RpcResult,
    encode,
    to_raw,
)
from .calls import PendingCalls
from .channel import Channel
from .credentials import Credentials
from .handshake import authenticate, open_websocket
from .hosts import ApiHost
from .wakes import WakeBatcher

__all__ = ["NamespaceConnection", "is_reader_task"]

logger = logging.getLogger("lmstudio_async.transport")

T = TypeVar("T")

_TEXT = aiohttp.WSMsgType.TEXT
# LM Studio (and our server) write channelSend frames with these fields first. Frames
# that start otherwise take the general path: a full envelope decode.
_CHANNEL_SEND_PREFIX = '{"type":"channelSend","channelId":'
_ID_START = len(_CHANNEL_SEND_PREFIX)

# How long closing waits for frames already queued (such as cancels) to be sent.
_FLUSH_SECONDS = 1.0


class _NoChannel:
    """Stands for "no run of frames yet" in the reader: as if a closed channel."""

    _quiet = False

    def append(self, frame: str) -> None:
        """Never called: the reader appends only to a quiet channel's buffer."""


_NO_CHANNEL = _NoChannel()


_readers: weakref.WeakSet[asyncio.Task[None]] = weakref.WeakSet()


def is_reader_task(task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` is a connection's reader: it runs for as long as its socket is
    open, so whoever runs a loop for "tasks still pending" must not wait for it."""
    return task in _readers


class NamespaceConnection:
    """The websocket for one namespace (``llm``, ``system``...) of one client."""

    def __init__(
        self,
        *,
        namespace: str,
        api_host: ApiHost,
        credentials: Credentials,
        session: aiohttp.ClientSession,
    ) -> None:
        self.namespace = namespace
        self.api_host = api_host
        self._credentials = credentials
        self._session = session
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._reader: asyncio.Task[None] | None = None
        #: Open channels, keyed by their id as frames write it (the reader's hot path looks
        #: them up by that text without parsing it).
        self._channels: dict[str, Channel[Any]] = {}
        self._next_call_id = 1
        self._next_channel_id = 1
        self._closed = False
        self._failure: LMStudioWebsocketError | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._wakes: WakeBatcher | None = None
        self.timer_context = contextvars.Context()
        self._calls = PendingCalls(namespace, self.timer_context)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<NamespaceConnection {self.api_host}/{self.namespace} {state}>"

    @property
    def is_open(self) -> bool:
        return self._ws is not None and not self._closed

    # --- lifecycle ----------------------------------------------------------------

    async def connect(self, timeout: float) -> None:
        """Open the websocket and authenticate; raises a clear error if either fails."""
        ws = await open_websocket(self._session, self.api_host, self.namespace, timeout)
        try:
            await authenticate(ws, self._credentials, self.api_host, self.namespace, timeout)
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        self._wakes = wakes = WakeBatcher(asyncio.get_running_loop())
        self._reader = asyncio.get_running_loop().create_task(
            self._read_forever(ws, wakes),
            name=f"lmstudio-async reader {self.api_host}/{self.namespace}",
        )
        _readers.add(self._reader)

    async def aclose(self) -> None:
        """Close the socket; whatever is still pending fails with a clear error."""
        if self._closed:
            return
        # Pending sends are cancel frames for abandoned work: let them go out first.
        background, self._background = self._background, set()
        if background:
            await asyncio.wait(background, timeout=_FLUSH_SECONDS)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        self._fail_all(
            LMStudioWebsocketError(
                f"The client closed its connection to {self.api_host}/{self.namespace} "
                "while this request was pending."
            )
        )
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            # gather() absorbs the reader's own CancelledError but still propagates ours.
            await asyncio.gather(reader, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()

    # --- reading ------------------------------------------------------------------

    async def _read_forever(
        self, ws: aiohttp.ClientWebSocketResponse[bool], wakes: WakeBatcher
    ) -> None:
        reason = "the server closed the connection"
        try:
            decode = SERVER_MESSAGE_DECODER.decode_or_warn
            receive = ws.receive
            routes = self._channels
            # The channel of the last run of frames for one channel, their common start (up
            # to the comma after the id) and its buffer's append: while that channel is open
            # and its consumer is not waiting (``_quiet``), a frame costs one prefix test.
            same_start = _CHANNEL_SEND_PREFIX
            same_channel: Any = _NO_CHANNEL
            same_append: Callable[[str], None] = _NO_CHANNEL.append
            previous: Channel[Any] | None = None
            while True:
                message = await receive()
                if message.type is _TEXT:
                    data = message.data
                    # The hot path: a channelSend in the usual field order, routed by the
                    # text of its channel id; the channel decodes the whole frame once, typed.
                    if data.startswith(same_start) and same_channel._quiet:
                        same_append(data)
                        continue
                    channel = None
                    if data.startswith(_CHANNEL_SEND_PREFIX):
                        end = data.find(",", _ID_START)
                        channel = routes.get(data[_ID_START:end])
                        if channel is not None and channel is previous:
                            same_start, same_channel = data[: end + 1], channel
                            same_append = channel._buffer.append
                        previous = channel
                    if channel is None:
                        self._route_text(data, decode)
                        continue
                    buffer = channel._buffer
                    buffer.append(data)
                    waiter = channel._waiter
                    if waiter is not None:  # its consumer waits: wake it after the burst
                        channel._take_waiter()
                        wakes.add(waiter, buffer)
                elif (
                    message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING)
                    or message.type is aiohttp.WSMsgType.CLOSED
                ):
                    break
                elif message.type is aiohttp.WSMsgType.ERROR:
                    reason = f"the connection failed ({ws.exception()!r})"
                    break
                else:
                    logger.warning(
                        "Ignored a %s frame from %s/%s; LM Studio sends text frames only.",
                        message.type.name,
                        self.api_host,
                        self.namespace,
                    )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a routing bug must not leave callers hanging
            logger.exception("Reader for %s/%s failed", self.api_host, self.namespace)
            reason = f"the client's reader failed ({exc!r})"
        self._fail_all(
            LMStudioWebsocketError(
                f"Lost the connection to LM Studio at {self.api_host}/{self.namespace}: "
                f"{reason}. Pending requests on it failed; the next request reconnects."
            )
        )

    def _route_text(self, data: str, decode: Callable[[str], Envelope | None]) -> None:
        """A text frame off the hot path: decoded whole, then routed."""
        envelope = decode(data)
        if type(envelope) is ChannelSend:
            # Fields in another order (the frame is still a whole channelSend).
            channel = self._channels.get(str(envelope.channel_id))
            if channel is not None:
                channel._feed(data)
        elif envelope is not None:
            self._route(envelope)

    def _route(self, envelope: Envelope) -> None:
        if isinstance(envelope, RpcResult):
            pending = self._calls.pop(envelope.call_id)
            if pending is not None and not pending[0].done():
                pending[0].set_result(envelope.result)
        elif isinstance(envelope, RpcError):
            pending = self._calls.pop(envelope.call_id)
            if pending is not None and not pending[0].done():
                future, endpoint = pending
                prefix = f"{self.namespace}/{endpoint}"
                future.set_exception(LMStudioServerError.from_wire(prefix, envelope.error))
        elif isinstance(envelope, ChannelClose):
            channel = self._channels.pop(str(envelope.channel_id), None)
            if channel is not None:
                channel._end()
        elif isinstance(envelope, ChannelError):
            channel = self._channels.pop(str(envelope.channel_id), None)
            if channel is not None:
                channel._end(LMStudioServerError.from_wire(channel.label, envelope.error))
        elif isinstance(envelope, CommunicationWarning):
            logger.warning(
                "LM Studio at %s/%s reported a protocol problem (%s): %s",
                self.api_host,
                self.namespace,
                envelope.kind or "unknown",
                envelope.warning,
            )
        else:
            # keepAliveAck, signal updates, acks: nothing in this SDK waits for them.
            logger.debug(
                "Ignored %s from %s/%s", type(envelope).__name__, self.api_host, self.namespace
            )

    def _fail_all(self, error: LMStudioWebsocketError) -> None:
        self._closed = True
        self._failure = error
        self._calls.fail_all(error)
        channels = list(self._channels.values())
        self._channels.clear()  # in place: the reader holds this dict
        for channel in channels:
            channel._end(error)
        if self._wakes is not None:
            self._wakes.flush()

    # --- sending ------------------------------------------------------------------

    async def send(self, envelope: Envelope) -> None:
        ws = self._ws
        if ws is None or self._closed or ws.closed:
            raise self._failure or LMStudioWebsocketError(
                f"The connection to LM Studio at {self.api_host}/{self.namespace} is closed."
            )
        try:
            await ws.send_frame(encode(envelope), _TEXT)
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise LMStudioWebsocketError(
                f"Could not send to LM Studio at {self.api_host}/{self.namespace}: {exc}"
            ) from exc

    def send_soon(self, envelope: Envelope) -> None:
        """Send without waiting, from code that cannot await (e.g. while being cancelled).

        The frame is written on the next loop iteration; a failure is only logged,
        since the socket going away already ends whatever the frame was about.
        """
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._send_quietly(envelope))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_quietly(self, envelope: Envelope) -> None:
        try:
            await self.send(envelope)
        except LMStudioWebsocketError as exc:
            logger.debug("Could not send %s: %s", type(envelope).__name__, exc)

    async def call(self, endpoint: str, parameter: Any, timeout: float) -> Raw:
        """Make one RPC and return its raw ``result`` (empty for void results)."""
        call_id = self._next_call_id
        self._next_call_id += 1
        future: asyncio.Future[Raw] = asyncio.get_running_loop().create_future()
        calls = self._calls
        calls.add(call_id, future, endpoint)
        try:
            await self.send(
                RpcCall(endpoint=endpoint, call_id=call_id, parameter=to_raw(parameter))
            )
            calls.start_clock(call_id, timeout)
            return await future
        finally:
            calls.pop(call_id)

    async def open_channel(
        self,
        endpoint: str,
        creation_parameter: Any,
        decoder: LenientDecoder[T],
        timeout: float,
    ) -> Channel[T]:
        """Create a channel; its packets are decoded with ``decoder``."""
        channel_id = self._next_channel_id
        self._next_channel_id += 1
        channel: Channel[T] = Channel(
            channel_id=channel_id,
            endpoint=endpoint,
            label=f"{self.namespace}/{endpoint}",
            decoder=decoder,
            timeout=timeout,
            owner=self,
        )
        self._channels[str(channel_id)] = channel
        try:
            await self.send(
                ChannelCreate(
                    endpoint=endpoint,
                    channel_id=channel_id,
                    creation_parameter=to_raw(creation_parameter),
                )
            )
        except BaseException:
            self.release_channel(channel_id)
            raise
        return channel

    def release_channel(self, channel_id: int) -> None:
        self._channels.pop(str(channel_id), None)

    @property
    def pending_calls(self) -> int:
        return len(self._calls)

    @property
    def open_channels(self) -> int:
        return len(self._channels)
