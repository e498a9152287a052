"""Chat history on the wire (PROTOCOL.md 8): messages tagged by ``role``, parts by ``type``."""

from __future__ import annotations

from typing import Any

from .base import TaggedStruct, WireStruct

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


class TextPart(TaggedStruct, tag_field="type", tag="text", kw_only=True):
    text: str


class FilePart(TaggedStruct, tag_field="type", tag="file", kw_only=True):
    name: str
    identifier: str
    size_bytes: int
    file_type: str


class FunctionToolCallRequest(TaggedStruct, tag_field="type", tag="function", kw_only=True):
    name: str
    id: str | None = None
    arguments: dict[str, Any] | None = None


class ToolCallRequestPart(TaggedStruct, tag_field="type", tag="toolCallRequest", kw_only=True):
    tool_call_request: FunctionToolCallRequest


class ToolCallResultPart(TaggedStruct, tag_field="type", tag="toolCallResult", kw_only=True):
    content: str
    tool_call_id: str | None = None
    name: str | None = None


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
