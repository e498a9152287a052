"""Auth packets and the envelope messages that carry everything else (PROTOCOL.md 2 and 3).

Payloads (``message``, ``parameter``, ``result``, ``creationParameter``) are kept
as :class:`msgspec.Raw`: the reader task only routes by id, and the receiver of a
payload decodes it with the one type it expects. Encode a payload with
:func:`lmstudio_async.protocol.codec.to_raw`.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from .base import EMPTY_RAW, Raw, WireStruct
from .errors import SerializedLMSExtendedError

__all__ = [
    "AUTH_VERSION",
    "API_TOKEN_FORM",
    "split_api_token",
    "AuthPacket",
    "AuthResult",
    "Envelope",
    "ChannelCreate",
    "ChannelSend",
    "ChannelAck",
    "ChannelClose",
    "ChannelError",
    "RpcCall",
    "RpcResult",
    "RpcError",
    "SignalSubscribe",
    "SignalUnsubscribe",
    "WritableSignalSubscribe",
    "WritableSignalUnsubscribe",
    "WritableSignalUpdate",
    "SignalUpdate",
    "SignalError",
    "WritableSignalError",
    "CommunicationWarning",
    "KeepAlive",
    "KeepAliveAck",
    "ClientMessage",
    "ServerMessage",
]

AUTH_VERSION: Final = 1

_API_TOKEN = re.compile(r"sk-lm-([A-Za-z0-9]{8}):([A-Za-z0-9]{20})")
#: How LM Studio API tokens look, for error messages.
API_TOKEN_FORM: Final = "sk-lm-<8 letters or digits>:<20 letters or digits>"


def split_api_token(token: str) -> tuple[str, str] | None:
    """An API token's client identifier and passkey (PROTOCOL.md 1.5), or ``None`` if the
    text (surrounding whitespace aside) is not a token."""
    match = _API_TOKEN.fullmatch(token.strip())
    return None if match is None else (match.group(1), match.group(2))


class AuthPacket(WireStruct, kw_only=True, omit_defaults=False):
    """The first frame a client sends on every namespace socket."""

    client_identifier: str
    client_passkey: str
    auth_version: int = AUTH_VERSION

    def __repr__(self) -> str:  # never show the passkey
        return f"AuthPacket(client_identifier={self.client_identifier!r}, client_passkey=<hidden>)"


class AuthResult(WireStruct, kw_only=True):
    """The server's first frame: success, or failure with a *plain string* error."""

    success: bool
    error: str | None = None


class Envelope(WireStruct, tag_field="type", kw_only=True):
    """Base of every post-auth message; discriminated by ``type``."""


# --- channels ---------------------------------------------------------------


class ChannelCreate(Envelope, tag="channelCreate", kw_only=True):
    endpoint: str
    channel_id: int
    creation_parameter: Raw = EMPTY_RAW


class ChannelSend(Envelope, tag="channelSend", kw_only=True):
    """An in-channel packet, in either direction."""

    channel_id: int
    message: Raw = EMPTY_RAW
    ack_id: int | None = None


class ChannelAck(Envelope, tag="channelAck", kw_only=True):
    channel_id: int
    ack_id: int


class ChannelClose(Envelope, tag="channelClose", kw_only=True):
    channel_id: int


class ChannelError(Envelope, tag="channelError", kw_only=True):
    channel_id: int
    error: SerializedLMSExtendedError = msgspec.field(default_factory=SerializedLMSExtendedError)


# --- rpc ----------------------------------------------------------------------


class RpcCall(Envelope, tag="rpcCall", kw_only=True):
    endpoint: str
    call_id: int
    parameter: Raw = EMPTY_RAW


class RpcResult(Envelope, tag="rpcResult", kw_only=True):
    """A call's result; ``result`` is absent (empty) for void endpoints."""

    call_id: int
    result: Raw = EMPTY_RAW


class RpcError(Envelope, tag="rpcError", kw_only=True):
    call_id: int
    error: SerializedLMSExtendedError = msgspec.field(default_factory=SerializedLMSExtendedError)


# --- signals (accepted for completeness; no SDK endpoint uses them) ---------


class SignalSubscribe(Envelope, tag="signalSubscribe", kw_only=True):
    endpoint: str
    subscribe_id: int
    creation_parameter: Raw = EMPTY_RAW


class SignalUnsubscribe(Envelope, tag="signalUnsubscribe", kw_only=True):
    subscribe_id: int


class WritableSignalSubscribe(Envelope, tag="writableSignalSubscribe", kw_only=True):
    endpoint: str
    subscribe_id: int
    creation_parameter: Raw = EMPTY_RAW


class WritableSignalUnsubscribe(Envelope, tag="writableSignalUnsubscribe", kw_only=True):
    subscribe_id: int


class WritableSignalUpdate(Envelope, tag="writableSignalUpdate", kw_only=True):
    subscribe_id: int
    patches: list[Any]
    tags: list[str]


class SignalUpdate(Envelope, tag="signalUpdate", kw_only=True):
    subscribe_id: int
    patches: list[Any]
    tags: list[str]


class SignalError(Envelope, tag="signalError", kw_only=True):
    subscribe_id: int
    error: SerializedLMSExtendedError = msgspec.field(default_factory=SerializedLMSExtendedError)


class WritableSignalError(Envelope, tag="writableSignalError", kw_only=True):
    subscribe_id: int
    error: SerializedLMSExtendedError = msgspec.field(default_factory=SerializedLMSExtendedError)


# --- connection-level -------------------------------------------------------


class CommunicationWarning(Envelope, tag="communicationWarning", kw_only=True):
    warning: str
    kind: str | None = None


class KeepAlive(Envelope, tag="keepAlive", kw_only=True):
    pass


class KeepAliveAck(Envelope, tag="keepAliveAck", kw_only=True):
    pass


#: Everything a client may send after authenticating.
ClientMessage = (
    ChannelCreate
    | ChannelSend
    | ChannelAck
    | RpcCall
    | SignalSubscribe
    | SignalUnsubscribe
    | WritableSignalSubscribe
    | WritableSignalUnsubscribe
    | WritableSignalUpdate
    | CommunicationWarning
    | KeepAlive
)

#: Everything a server may send after authenticating.
ServerMessage = (
    ChannelSend
    | ChannelAck
    | ChannelClose
    | ChannelError
    | RpcResult
    | RpcError
    | SignalUpdate
    | SignalError
    | WritableSignalUpdate
    | WritableSignalError
    | CommunicationWarning
    | KeepAliveAck
)
