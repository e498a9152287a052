"""Chat history on the wire (PROTOCOL.md 8): messages tagged by ``role``, parts by ``type``."""

from __future__ import annotations

from typing import Any

from .base import WireStruct

__all__ = [
    "TextPart",
    "FilePart",
    "FunctionToolCallRequest",
    "ToolCallRequestPart",
    "ToolCallResultPart",
    "SystemMessage",
    "UserMessage",
    "AssistantMessage",
    "ToolMessage",
    "ChatMessage",
    "ChatHistoryData",
    "role_of",
]


class TextPart(WireStruct, tag_field="type", tag="text", kw_only=True):
    text: str

    @property
    def type(self) -> str:
        """The part's kind (its wire tag)."""
        return str(type(self).__struct_config__.tag)


class FilePart(WireStruct, tag_field="type", tag="file", kw_only=True):
    name: str
    identifier: str
    size_bytes: int
    file_type: str

    @property
    def type(self) -> str:
        """The part's kind (its wire tag)."""
        return str(type(self).__struct_config__.tag)


class FunctionToolCallRequest(WireStruct, tag_field="type", tag="function", kw_only=True):
    name: str
    id: str | None = None
    arguments: dict[str, Any] | None = None

    @property
    def type(self) -> str:
        """The request's kind (its wire tag): ``"function"``."""
        return str(type(self).__struct_config__.tag)


class ToolCallRequestPart(WireStruct, tag_field="type", tag="toolCallRequest", kw_only=True):
    tool_call_request: FunctionToolCallRequest

    @property
    def type(self) -> str:
        """The part's kind (its wire tag)."""
        return str(type(self).__struct_config__.tag)


class ToolCallResultPart(WireStruct, tag_field="type", tag="toolCallResult", kw_only=True):
    content: str
    tool_call_id: str | None = None
    name: str | None = None

    @property
    def type(self) -> str:
        """The part's kind (its wire tag)."""
        return str(type(self).__struct_config__.tag)


class SystemMessage(WireStruct, tag_field="role", tag="system", kw_only=True):
    content: list[TextPart | FilePart]

    @property
    def role(self) -> str:
        return role_of(self)


class UserMessage(WireStruct, tag_field="role", tag="user", kw_only=True):
    content: list[TextPart | FilePart]

    @property
    def role(self) -> str:
        return role_of(self)


class AssistantMessage(WireStruct, tag_field="role", tag="assistant", kw_only=True):
    content: list[TextPart | FilePart | ToolCallRequestPart]

    @property
    def role(self) -> str:
        return role_of(self)


class ToolMessage(WireStruct, tag_field="role", tag="tool", kw_only=True):
    content: list[ToolCallResultPart]

    @property
    def role(self) -> str:
        return role_of(self)


ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage


def role_of(message: ChatMessage) -> str:
    """A message's ``role`` (its wire tag): ``system``, ``user``, ``assistant`` or ``tool``."""
    return str(type(message).__struct_config__.tag)


class ChatHistoryData(WireStruct, kw_only=True):
    messages: list[ChatMessage]
