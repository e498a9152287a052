"""The contract between the server's websocket layer and its endpoint handlers.

The websocket layer (``connection.py``) authenticates clients, decodes
envelopes and routes each ``rpcCall``/``channelCreate`` to the handler
registered for ``(namespace, endpoint)``. A handler receives its parameter
already decoded into the type it declared, and a context through which it
reaches the server state and, for channels, talks to the client.

A handler reports failure by raising :class:`ServerError`; the websocket layer
turns it into ``rpcError``/``channelError``. Any other exception becomes an
"internal server error" reply, so no request is ever left unanswered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..protocol import SerializedLMSExtendedError

if TYPE_CHECKING:
    from .state import ServerState

__all__ = [
    "ServerError",
    "ClientInfo",
    "CallContext",
    "ChannelContext",
    "RpcHandler",
    "ChannelHandler",
    "RpcEndpoint",
    "ChannelEndpoint",
    "Namespace",
]

P = TypeVar("P")


class ServerError(Exception):
    """An error to report to the client as a structured LM Studio error."""

    def __init__(
        self,
        title: str,
        *,
        cause: str | None = None,
        suggestion: str | None = None,
        display_data: dict[str, Any] | None = None,
        error_data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.title = title
        self.cause = cause
        self.suggestion = suggestion
        self.display_data = display_data
        self.error_data = error_data

    def to_wire(self) -> SerializedLMSExtendedError:
        return SerializedLMSExtendedError(
            title=self.title,
            cause=self.cause,
            suggestion=self.suggestion,
            display_data=self.display_data,
            error_data=self.error_data,
            root_title=self.title,
        )


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end of a socket (from its auth packet)."""

    identifier: str


@dataclass
class CallContext:
    """What an RPC handler can reach."""

    state: ServerState
    client: ClientInfo
    namespace: str
    endpoint: str


class ChannelContext(CallContext, ABC):
    """What a channel handler can reach, beyond :class:`CallContext`.

    The handler returns normally to end the channel with ``channelClose`` (after
    it has sent its result packet), or raises :class:`ServerError` to end it with
    ``channelError``. If the client's socket goes away, the handler task is
    cancelled.

    The websocket layer provides the implementation; handlers only use it.
    """

    @abstractmethod
    async def send(self, packet: Any) -> None:
        """Send one toClient packet (a wire struct with a ``type`` tag)."""

    @abstractmethod
    async def receive(self) -> Any:
        """Wait for the next toServer packet, decoded as the endpoint declared.

        Returns ``None`` when the client can no longer send (socket closed).
        """

    @abstractmethod
    def cancel_requested(self) -> bool:
        """Whether the client has sent ``{"type": "cancel"}`` on this channel."""

    @abstractmethod
    async def wait_cancel_requested(self) -> None:
        """Return once the client has sent ``{"type": "cancel"}``."""


RpcHandler = Callable[[CallContext, P], Awaitable[Any]]
ChannelHandler = Callable[[ChannelContext, P], Awaitable[None]]


@dataclass(frozen=True)
class RpcEndpoint(Generic[P]):
    """An RPC: ``parameter_type`` is what the ``parameter`` decodes to (``None``: none).

    The handler's return value is encoded as ``result``; returning ``None`` means
    a void result (the ``result`` key is then omitted, as LM Studio does).
    """

    name: str
    handler: RpcHandler[P]
    parameter_type: Any = None


@dataclass(frozen=True)
class ChannelEndpoint(Generic[P]):
    """A channel: ``to_server_type`` is what client ``channelSend`` messages decode to."""

    name: str
    handler: ChannelHandler[P]
    parameter_type: Any = None
    to_server_type: Any = None


@dataclass
class Namespace:
    """The endpoints served on one websocket path (``/llm``, ``/system``...)."""

    name: str
    rpcs: dict[str, RpcEndpoint[Any]] = field(default_factory=dict)
    channels: dict[str, ChannelEndpoint[Any]] = field(default_factory=dict)

    def rpc(self, endpoint: RpcEndpoint[Any]) -> None:
        self.rpcs[endpoint.name] = endpoint

    def channel(self, endpoint: ChannelEndpoint[Any]) -> None:
        self.channels[endpoint.name] = endpoint
