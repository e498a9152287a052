"""Encoders and decoders, built once per type and reused for every message.

Decoding what the *other side* sent is lenient: an unknown message type, or a
known one this release cannot parse, becomes an
:class:`~lmstudio_async.errors.LMStudioUnknownMessageWarning` and is skipped,
instead of tearing down the connection.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from typing import Any, Generic, TypeVar

import msgspec

from ..errors import LMStudioUnknownMessageWarning
from .base import EMPTY_RAW, Raw
from .envelopes import AuthPacket, AuthResult, ClientMessage, ServerMessage

__all__ = [
    "encode",
    "to_raw",
    "Decoder",
    "LenientDecoder",
    "decoder_for",
    "lenient_decoder_for",
    "SERVER_MESSAGE_DECODER",
    "CLIENT_MESSAGE_DECODER",
    "AUTH_PACKET_DECODER",
    "AUTH_RESULT_DECODER",
]

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()
#: Encode any wire value (struct, list, dict...) to JSON bytes.
encode = _ENCODER.encode


def to_raw(value: Any) -> Raw:
    """Encode a payload for an envelope field; ``None`` means "absent"."""
    if value is None:
        return EMPTY_RAW
    if isinstance(value, Raw):
        return value
    return Raw(_ENCODER.encode(value))


class _TypeTag(msgspec.Struct):
    type: Any = None


_TYPE_TAG_DECODER = msgspec.json.Decoder(_TypeTag)


def message_type_of(data: bytes | str | Raw) -> str:
    """The ``type`` field of a JSON object, as text, for error messages and logs."""
    try:
        tag = _TYPE_TAG_DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return "<not a JSON object>"
    return str(tag.type)


class Decoder(Generic[T]):
    """A strict decoder for one type: raises :class:`msgspec.DecodeError` on bad input."""

    __slots__ = ("_decoder", "type")

    def __init__(self, type_: Any) -> None:
        self.type = type_
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)

    def decode(self, data: bytes | str | Raw) -> T:
        return self._decoder.decode(data)


class _ChannelFrame(msgspec.Struct, Generic[T], gc=False):
    """A whole ``channelSend`` frame, of which only the packet is decoded (the routing
    fields, already read by the reader task, are skipped). Short-lived, never in a cycle:
    not tracked by the garbage collector."""

    message: T


class _ChannelSendPayload(msgspec.Struct):
    message: Raw = EMPTY_RAW


_PAYLOAD_DECODER = msgspec.json.Decoder(_ChannelSendPayload)


class LenientDecoder(Decoder[T]):
    """Decodes packets from the other side; what it cannot parse is warned about and skipped."""

    __slots__ = ("_frame_decoder", "context")

    def __init__(self, type_: Any, context: str) -> None:
        super().__init__(type_)
        self.context = context
        self._frame_decoder: msgspec.json.Decoder[_ChannelFrame[T]] | None = None

    def _frame_decode(self) -> Callable[[bytes | str], _ChannelFrame[T]]:
        decoder = self._frame_decoder
        if decoder is None:
            decoder = self._frame_decoder = msgspec.json.Decoder(_ChannelFrame[self.type])  # type: ignore[name-defined]
        return decoder.decode

    def decode_frames(self, frames: list[str]) -> list[T]:
        """The packets of whole ``channelSend`` frames, each decoded in one pass; those that
        cannot be parsed are warned about and skipped."""
        decode = self._frame_decode()
        try:
            return [decode(frame).message for frame in frames]
        except msgspec.DecodeError:
            pass
        packets = (self.decode_frame_or_warn(frame) for frame in frames)
        return [packet for packet in packets if packet is not None]

    def decode_frame_or_warn(self, frame: bytes | str) -> T | None:
        """The packet of a whole ``channelSend`` frame, decoded in one pass."""
        try:
            return self._frame_decode()(frame).message
        except msgspec.DecodeError:
            pass
        # Rare: say what could not be parsed exactly as for a payload decoded on its own.
        try:
            payload = _PAYLOAD_DECODER.decode(frame).message
        except msgspec.DecodeError:
            payload = Raw(frame.encode() if isinstance(frame, str) else frame)
        return self.decode_or_warn(payload)

    def decode_or_warn(self, data: bytes | str | Raw) -> T | None:
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as exc:
            warnings.warn(
                f"Skipped a {self.context} message of type {message_type_of(data)!r} "
                f"that this SDK cannot parse ({exc}). The server may be newer than this SDK.",
                LMStudioUnknownMessageWarning,
                stacklevel=2,
            )
            return None


@cache
def decoder_for(type_: Any) -> Decoder[Any]:
    """The shared strict decoder for ``type_``."""
    return Decoder(type_)


@cache
def lenient_decoder_for(type_: Any, context: str) -> LenientDecoder[Any]:
    """The shared lenient decoder for ``type_`` (``context`` names it in warnings)."""
    return LenientDecoder(type_, context)


SERVER_MESSAGE_DECODER: LenientDecoder[ServerMessage] = LenientDecoder(
    ServerMessage, "server envelope"
)
CLIENT_MESSAGE_DECODER: Decoder[ClientMessage] = Decoder(ClientMessage)
AUTH_PACKET_DECODER: Decoder[AuthPacket] = Decoder(AuthPacket)
AUTH_RESULT_DECODER: Decoder[AuthResult] = Decoder(AuthResult)
