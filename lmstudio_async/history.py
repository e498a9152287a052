"""Chat history types under the official SDK's names (``lmstudio_async.history``).

``from lmstudio.history import Chat, UserMessage`` becomes
``from lmstudio_async.history import Chat, UserMessage``. The message and part
classes are this SDK's wire structs (:mod:`lmstudio_async.protocol`); the
``...Dict`` names are their dict forms, which every API taking a history accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from .chat import AssistantResponse, Chat, ChatHistoryInput, ChatMessageInput
from .protocol import (
    ChatHistoryData,
    ChatMessage,
    FilePart,
    SystemMessage,
    TextPart,
    UserMessage,
)

__all__ = [
    "AnyChatMessage",
    "AnyChatMessageDict",
    "AssistantResponse",
    "AssistantResponseContent",
    "AssistantResponseDict",
    "Chat",
    "ChatHistoryData",
    "ChatHistoryDataDict",
    "ChatHistoryInput",
    "ChatMessageInput",
    "SystemPrompt",
    "SystemPromptContent",
    "SystemPromptDict",
    "TextData",
    "TextDataDict",
    "UserMessage",
    "UserMessageContent",
    "UserMessageDict",
]

#: A text part of a message.
TextData: TypeAlias = TextPart
#: A system prompt message.
SystemPrompt: TypeAlias = SystemMessage
#: What a system prompt holds.
SystemPromptContent: TypeAlias = TextPart
#: What a user message holds: text, and files (images) sent with it.
UserMessageContent: TypeAlias = TextPart | FilePart
#: What an assistant response holds besides tool call requests.
AssistantResponseContent: TypeAlias = TextPart | FilePart
#: Any message of a chat history.
AnyChatMessage: TypeAlias = ChatMessage


class TextDataDict(TypedDict):
    type: Literal["text"]
    text: str


class FileDataDict(TypedDict):
    type: Literal["file"]
    name: str
    identifier: str
    sizeBytes: int
    fileType: str


class SystemPromptDict(TypedDict):
    role: Literal["system"]
    content: Sequence[TextDataDict]


class UserMessageDict(TypedDict):
    role: Literal["user"]
    content: Sequence[TextDataDict | FileDataDict]


class AssistantResponseDict(TypedDict):
    role: Literal["assistant"]
    content: Sequence[TextDataDict | FileDataDict | dict[str, Any]]


class ToolResultMessageDict(TypedDict):
    role: Literal["tool"]
    content: Sequence[dict[str, Any]]
    toolCallId: NotRequired[str]


#: Any message of a chat history, as a dict.
AnyChatMessageDict: TypeAlias = (
    SystemPromptDict | UserMessageDict | AssistantResponseDict | ToolResultMessageDict
)


class ChatHistoryDataDict(TypedDict):
    """A chat history as a dict: ``{"messages": [...]}``."""

    messages: Sequence[AnyChatMessageDict]
