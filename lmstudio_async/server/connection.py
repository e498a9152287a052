"""One authenticated namespace socket: decode envelopes, run handlers, send their replies.

Every ``rpcCall`` and ``channelCreate`` runs as its own task in the connection's
task group, so a slow handler never blocks the socket. When the socket closes,
the task group is cancelled: no handler outlives its connection.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections import OrderedDict
from typing import Any, NoReturn

import anyio
import anyio.abc
import msgspec
from aiohttp import WSMsgType, web

from ..protocol import (
    CLIENT_MESSAGE_DECODER,
    ChannelAck,
    ChannelClose,
    ChannelCreate,
    ChannelError,
    ChannelSend,
    ClientMessage,
    CommunicationWarning,
    KeepAlive,
    KeepAliveAck,
    Raw,
    RpcCall,
    RpcError,
    RpcResult,
    SignalError,
    SignalSubscribe,
    WritableSignalError,
    WritableSignalSubscribe,
    decoder_for,
    encode,
    to_raw,
)
from .api import CallContext, ChannelEndpoint, ClientInfo, Namespace, RpcEndpoint, ServerError
from .channel import ServerChannel
from .redact import MAX_ECHOED_NAME, loggable_identifier, shorten
from .state import ServerState

__all__ = ["Connection", "MAX_COMMUNICATION_WARNINGS", "MAX_ECHOED_NAME"]

logger = logging.getLogger(__name__)

#: Like LM Studio, a connection sends at most this many ``communicationWarning``s, then goes quiet.
MAX_COMMUNICATION_WARNINGS = 5

#: Finished channel ids remembered per socket (late packets for them are dropped silently).
_FINISHED_CHANNELS_KEPT = 1024

_TEXT = WSMsgType.TEXT


class Connection:
    def __init__(
        self,
        *,
        request: web.Request,
        ws: web.WebSocketResponse,
        namespace: Namespace,
        state: ServerState,
        client: ClientInfo,
        number: int,
    ) -> None:
        self._request = request
        self._ws = ws
        self._namespace = namespace
        self._state = state
        self._client = client
        self.number = number
        self._channels: dict[int, ServerChannel] = {}
        # Ids of the channels that finished last; a late packet for one (e.g. a cancel racing the
        # result) is expected and dropped silently. Bounded: older ids get a warning instead.
        self._finished_channels: OrderedDict[int, None] = OrderedDict()
        self._rpcs_running = 0
        self._max_channels = state.config.max_channels
        self._warnings_sent = 0
        self._warnings_received = 0
        self._task_group: anyio.abc.TaskGroup | None = None

    async def serve(self) -> None:
        """Handle the socket until it closes; then cancel whatever its handlers still do."""
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            try:
                await self._read_loop()
            finally:
                task_group.cancel_scope.cancel()
                for channel in self._channels.values():
                    channel.close_inbox()

    async def abort(self) -> NoReturn:
        """Drop the socket without a websocket close handshake, and stop every handler."""
        transport = self._request.transport
        if transport is not None:
            transport.close()
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        await anyio.lowlevel.checkpoint()
        raise RuntimeError("unreachable: the connection's tasks were cancelled")

    # --- reading -------------------------------------------------------------

    async def _read_loop(self) -> None:
        ws = self._ws
        log = self._state.requests if self._state.config.test_control else None
        while True:
            message = await ws.receive()
            if message.type is _TEXT:
                data: bytes = message.data
            elif message.type is WSMsgType.BINARY:
                await self._warn("Binary frames are not supported; send JSON as text frames")
                continue
            else:
                return
            if log is not None:
                log.record(self._namespace.name, self.number, data)
            try:
                envelope = CLIENT_MESSAGE_DECODER.decode(data)
            except msgspec.DecodeError as exc:
                await self._warn(f"Ignored a message that is not a valid envelope: {exc}")
                continue
            except RecursionError:
                await self._warn("Ignored a message nested too deeply to decode")
                continue
            await self._dispatch(envelope)

    async def _dispatch(self, envelope: ClientMessage) -> None:
        if isinstance(envelope, ChannelSend):
            await self._route_channel_send(envelope)
        elif isinstance(envelope, RpcCall):
            await self._start_rpc(envelope)
        elif isinstance(envelope, ChannelCreate):
            await self._start_channel(envelope)
        elif isinstance(envelope, KeepAlive):
            await self._send_quietly(encode(KeepAliveAck()))
        elif isinstance(envelope, CommunicationWarning):
            # Logged as many times as warnings are sent: a client cannot flood the log.
            self._warnings_received += 1
            if self._warnings_received > MAX_COMMUNICATION_WARNINGS:
                return
            logger.warning(
                "Client %s (socket %d) warned: %s",
                loggable_identifier(self._client.identifier),
                self.number,
                shorten(envelope.warning, 500),
            )
        elif isinstance(envelope, SignalSubscribe):
            error = _unknown_endpoint("signal", envelope.endpoint, self._namespace, [])
            await self._send_quietly(
                encode(SignalError(subscribe_id=envelope.subscribe_id, error=error.to_wire()))
            )
        elif isinstance(envelope, WritableSignalSubscribe):
            error = _unknown_endpoint("writable signal", envelope.endpoint, self._namespace, [])
            reply = WritableSignalError(subscribe_id=envelope.subscribe_id, error=error.to_wire())
            await self._send_quietly(encode(reply))
        elif isinstance(envelope, ChannelAck):
            pass  # this server never asks for acknowledgements
        # Signal unsubscribe/update: no signal can be open, so there is nothing to do.

    async def _route_channel_send(self, envelope: ChannelSend) -> None:
        channel = self._channels.get(envelope.channel_id)
        if channel is None:
            if envelope.channel_id not in self._finished_channels:
                # No id is echoed in full: a channelId is any JSON integer.
                await self._warn(
                    f"Received channelSend for unknown channel {shorten(str(envelope.channel_id))}",
                    kind="channelUnknown",
                )
            return
        warning = channel.deliver(envelope.message)
        if warning is not None:
            await self._warn(warning, kind="channelMessageTypeError")

    # --- RPCs ------------------------------------------------------------------

    async def _start_rpc(self, call: RpcCall) -> None:
        endpoint = self._namespace.rpcs.get(call.endpoint)
        if endpoint is None:
            error = _unknown_endpoint(
                "RPC", call.endpoint, self._namespace, list(self._namespace.rpcs)
            )
            await self._send_quietly(encode(RpcError(call_id=call.call_id, error=error.to_wire())))
            return
        if self._rpcs_running >= self._max_channels:
            error = ServerError(
                f"Too many RPCs in progress on this socket (at most {self._max_channels})",
                suggestion="Wait for earlier calls to finish, or spread calls over more clients.",
            )
            await self._send_quietly(encode(RpcError(call_id=call.call_id, error=error.to_wire())))
            return
        self._rpcs_running += 1
        assert self._task_group is not None
        self._task_group.start_soon(self._run_rpc, endpoint, call)

    async def _run_rpc(self, endpoint: RpcEndpoint[Any], call: RpcCall) -> None:
        try:
            await self._answer_rpc(endpoint, call)
        finally:
            self._rpcs_running -= 1

    async def _answer_rpc(self, endpoint: RpcEndpoint[Any], call: RpcCall) -> None:
        reply: RpcResult | RpcError
        try:
            parameter = _decode_parameter(
                endpoint.parameter_type, call.parameter, "RPC", self._key(endpoint.name)
            )
            await self._apply_faults(endpoint.name)
            context = CallContext(
                state=self._state,
                client=self._client,
                namespace=self._namespace.name,
                endpoint=endpoint.name,
            )
            result = await endpoint.handler(context, parameter)
            reply = RpcResult(call_id=call.call_id, result=to_raw(result))
        except ServerError as exc:
            reply = RpcError(call_id=call.call_id, error=exc.to_wire())
        except Exception as exc:
            if self._ws.closed:
                return
            logger.exception("RPC handler %s failed", self._key(endpoint.name))
            reply = RpcError(call_id=call.call_id, error=_internal_error(exc).to_wire())
        await self._send_quietly(encode(reply))

    # --- channels ----------------------------------------------------------------

    async def _start_channel(self, create: ChannelCreate) -> None:
        channel_id = create.channel_id
        if channel_id in self._channels:
            error = ServerError(
                f"Channel {channel_id} is already open on this connection",
                suggestion="Use a new channelId for every channelCreate.",
            )
            await self._send_quietly(
                encode(ChannelError(channel_id=channel_id, error=error.to_wire()))
            )
            return
        endpoint = self._namespace.channels.get(create.endpoint)
        if endpoint is None:
            # Like LM Studio: a warning, and no channelError (PROTOCOL.md 3.6).
            error = _unknown_endpoint(
                "channel", create.endpoint, self._namespace, list(self._namespace.channels)
            )
            await self._warn(
                f"Received channelCreate for an unknown endpoint: {error.title}. "
                f"{error.suggestion or ''}".rstrip(),
                kind="channelEndpointUnknown",
            )
            return
        if len(self._channels) >= self._max_channels:
            error = ServerError(
                f"Too many open channels on this socket (at most {self._max_channels})",
                suggestion="Wait for earlier predictions to finish, or spread them over more "
                "clients.",
            )
            await self._send_quietly(
                encode(ChannelError(channel_id=channel_id, error=error.to_wire()))
            )
            return
        channel = ServerChannel(
            state=self._state,
            client=self._client,
            namespace=self._namespace.name,
            endpoint=endpoint,
            channel_id=channel_id,
            send_frame=self._ws.send_frame,
            abort_connection=self.abort,
        )
        self._channels[channel_id] = channel
        self._finished_channels.pop(channel_id, None)
        assert self._task_group is not None
        self._task_group.start_soon(self._run_channel, endpoint, channel, create.creation_parameter)

    async def _run_channel(
        self, endpoint: ChannelEndpoint[Any], channel: ServerChannel, raw_parameter: Raw
    ) -> None:
        final: ChannelClose | ChannelError
        channel_id = channel.channel_id
        try:
            parameter = _decode_parameter(
                endpoint.parameter_type, raw_parameter, "channel", self._key(endpoint.name)
            )
            await self._apply_faults(endpoint.name)
            await endpoint.handler(channel, parameter)
            final = ChannelClose(channel_id=channel_id)
        except ServerError as exc:
            final = ChannelError(channel_id=channel_id, error=exc.to_wire())
        except Exception as exc:
            if self._ws.closed:
                return
            logger.exception("Channel handler %s failed", self._key(endpoint.name))
            final = ChannelError(channel_id=channel_id, error=_internal_error(exc).to_wire())
        finally:
            del self._channels[channel_id]
            self._finished_channels[channel_id] = None
            if len(self._finished_channels) > _FINISHED_CHANNELS_KEPT:
                self._finished_channels.popitem(last=False)
            channel.close_inbox()
        await self._send_quietly(encode(final))

    # --- helpers ---------------------------------------------------------------------

    def _key(self, endpoint: str) -> str:
        return f"{self._namespace.name}/{endpoint}"

    async def _apply_faults(self, endpoint: str) -> None:
        faults = self._state.faults
        if not faults.delays and not faults.failures:
            return
        key = self._key(endpoint)
        delay = faults.delays.get(key)
        if delay:
            await anyio.sleep(delay)
        title = faults.failures.get(key)
        if title is not None:
            raise ServerError(
                title,
                cause=f"Fault injected into {key} by the server's fault plan.",
            )

    async def _send_quietly(self, data: bytes) -> None:
        """Send a frame; if the socket is already gone there is no one left to tell."""
        with contextlib.suppress(ConnectionResetError):
            await self._ws.send_frame(data, _TEXT)

    async def _warn(self, text: str, kind: str = "unknown") -> None:
        # Past the cap, nothing is sent or logged: a client cannot flood the log either.
        if self._warnings_sent >= MAX_COMMUNICATION_WARNINGS:
            return
        self._warnings_sent += 1
        text = shorten(text, 1000)
        logger.warning(
            "Client %s (socket %d, /%s): %s%s",
            loggable_identifier(self._client.identifier),
            self.number,
            self._namespace.name,
            text,
            " (further warnings on this socket are not logged)"
            if self._warnings_sent == MAX_COMMUNICATION_WARNINGS
            else "",
        )
        await self._send_quietly(encode(CommunicationWarning(warning=text, kind=kind)))


def _decode_parameter(parameter_type: Any, raw: Raw, kind: str, key: str) -> Any:
    if parameter_type is None:
        return None
    try:
        # An absent parameter and an explicit null mean the same (PROTOCOL.md 3.1).
        return decoder_for(parameter_type).decode(raw if raw else b"null")
    except RecursionError:
        raise ServerError(
            f"Invalid parameter for {kind} endpoint '{key}': nested too deeply",
            suggestion="Send a parameter with fewer nested levels of arrays and objects.",
        ) from None
    except msgspec.DecodeError as exc:
        raise ServerError(
            f"Invalid parameter for {kind} endpoint '{key}': {shorten(str(exc), 1000)}",
            cause=shorten(str(exc), 1000),
            suggestion="Check the parameter against the endpoint's schema (PROTOCOL.md 6).",
        ) from None


def _unknown_endpoint(kind: str, name: str, namespace: Namespace, known: list[str]) -> ServerError:
    title = f"Unknown {kind} endpoint {shorten(name)!r} in namespace {namespace.name!r}"
    if name in namespace.channels and kind != "channel":
        return ServerError(title, suggestion=f"{name!r} is a channel: open it with channelCreate.")
    if name in namespace.rpcs and kind != "RPC":
        return ServerError(title, suggestion=f"{name!r} is an RPC: call it with rpcCall.")
    if not known:
        return ServerError(
            title, suggestion=f"Namespace {namespace.name!r} has no {kind} endpoints."
        )
    if len(name) > MAX_ECHOED_NAME:
        # Fuzzy matching costs time quadratic in the name's length: only real names get it.
        return ServerError(title, suggestion=f"Known {kind} endpoints: {', '.join(known)}.")
    ranked = difflib.get_close_matches(name, known, n=len(known), cutoff=0.0)
    suggestion = f"Known {kind} endpoints: {', '.join(ranked)}."
    if difflib.get_close_matches(name, known, n=1):
        suggestion = f"Did you mean {ranked[0]!r}? {suggestion}"
    return ServerError(title, suggestion=suggestion)


def _internal_error(exc: Exception) -> ServerError:
    return ServerError("Internal server error", cause=str(exc) or type(exc).__name__)
