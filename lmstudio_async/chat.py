"""``Chat``: a conversation history to send to an LLM. No I/O: shared by the async and sync APIs.

Messages are kept in their wire form (PROTOCOL.md section 8), so sending a chat
costs one encode and nothing else.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Union

import msgspec

from .errors import LMStudioValueError
from .protocol import (
    AssistantMessage,
    ChatHistoryData,
    ChatMessage,
    FilePart,
    FunctionToolCallRequest,
    SystemMessage,
    TextPart,
    ToolCallRequestPart,
    ToolMessage,
    UserMessage,
    role_of,
)
from .tools.chat_parts import (
    ToolCallResultInput,
    response_text,
    tool_call_parts,
    tool_result_message,
)

__all__ = ["Chat", "ChatHistoryInput", "ChatMessageInput", "AssistantResponse"]

#: A message: a wire message struct, or a dict ``{"role": ..., "content": str | parts}``.
ChatMessageInput = ChatMessage | Mapping[str, Any]
#: A history: a :class:`Chat`, ``{"messages": [...]}``, a list of messages, or a plain
#: string (one user message).
ChatHistoryInput = Union[  # a forward reference ("Chat") needs Union
    "Chat", ChatHistoryData, Mapping[str, Any], Sequence[ChatMessageInput], str
]
#: The message ``on_message`` receives when a prediction completes.
AssistantResponse = AssistantMessage

_MESSAGE_TYPES = (SystemMessage, UserMessage, AssistantMessage, ToolMessage)
_ROLES = ("system", "user", "assistant", "tool")


class Chat:
    """A conversation: an optional system prompt, then user and assistant turns.

    ``chat.append`` accepts the message ``on_message`` receives, so
    ``llm.respond(chat, on_message=chat.append)`` records the reply.
    """

    __slots__ = ("_messages",)

    def __init__(self, initial_prompt: str | None = None) -> None:
        self._messages: list[ChatMessage] = []
        if initial_prompt is not None:
            self.add_system_prompt(initial_prompt)

    # --- construction ---------------------------------------------------------------

    @classmethod
    def from_history(cls, history: ChatHistoryInput) -> Chat:
        """A new chat holding a copy of ``history`` (see :data:`ChatHistoryInput`)."""
        chat = cls()
        if isinstance(history, Chat):
            chat._messages = _copy.deepcopy(history._messages)
        elif isinstance(history, str):
            chat.add_user_message(history)
        elif isinstance(history, ChatHistoryData):
            chat._messages = _copy.deepcopy(history.messages)
        elif isinstance(history, Mapping):
            if "messages" not in history:
                raise LMStudioValueError(
                    "A chat history dict needs a 'messages' list, e.g. "
                    "{'messages': [{'role': 'user', 'content': 'Hi'}]}."
                )
            for message in history["messages"]:
                chat._messages.append(_to_message(message))
        elif isinstance(history, Sequence):
            for message in history:
                if isinstance(message, str):
                    raise LMStudioValueError(
                        f"A list of chat messages holds dicts or messages, not {message!r}."
                    )
                chat._messages.append(_to_message(message))
        else:
            raise LMStudioValueError(
                f"Expected a Chat, a history dict, a list of messages or a string, "
                f"not {type(history).__name__}."
            )
        return chat

    def copy(self) -> Chat:
        """An independent copy."""
        return Chat.from_history(self)

    # --- adding messages ------------------------------------------------------------

    def add_system_prompt(self, prompt: str) -> SystemMessage:
        """Add a system prompt (instructions for the model)."""
        if self._messages and isinstance(self._messages[-1], SystemMessage):
            raise LMStudioValueError(
                "The chat already ends with a system prompt; combine the two prompts into one."
            )
        message = SystemMessage(content=[TextPart(text=_text(prompt, "system prompt"))])
        self._messages.append(message)
        return message

    def add_user_message(
        self, content: str | Iterable[TextPart | FilePart], *, images: Iterable[FilePart] = ()
    ) -> UserMessage:
        """Add a user message; consecutive user messages are merged into one."""
        parts: list[TextPart | FilePart] = (
            [TextPart(text=content)] if isinstance(content, str) else list(content)
        )
        parts.extend(images)
        _check_parts(parts, (TextPart, FilePart), "user")
        last = self._messages[-1] if self._messages else None
        if isinstance(last, UserMessage):
            last.content.extend(parts)
            return last
        message = UserMessage(content=parts)
        self._messages.append(message)
        return message

    def add_assistant_response(
        self,
        response: str | Any,
        tool_call_requests: Iterable[ToolCallRequestPart | FunctionToolCallRequest] = (),
    ) -> AssistantMessage:
        """Add the assistant's reply (text or a prediction result), with any tool calls it made."""
        parts: list[TextPart | FilePart | ToolCallRequestPart] = [
            TextPart(text=_text(response_text(response), "assistant response"))
        ]
        parts.extend(tool_call_parts(tool_call_requests))
        message = AssistantMessage(content=parts)
        self._append(message)
        return message

    def add_tool_results(self, results: Iterable[ToolCallResultInput]) -> ToolMessage:
        """Add the answers to the model's tool calls, as one ``tool`` message."""
        message = tool_result_message(results)
        self._messages.append(message)
        return message

    def add_tool_result(self, result: ToolCallResultInput) -> ToolMessage:
        """Add the answer to one tool call, as a ``tool`` message."""
        return self.add_tool_results([result])

    def append(self, message: ChatMessageInput) -> ChatMessage:
        """Add a message (a wire message, or ``{"role": ..., "content": ...}``)."""
        converted = _to_message(message)
        if isinstance(converted, UserMessage):
            return self.add_user_message(converted.content)
        if isinstance(converted, SystemMessage):
            if self._messages and isinstance(self._messages[-1], SystemMessage):
                raise LMStudioValueError("The chat already ends with a system prompt.")
            self._messages.append(converted)
            return converted
        return self._append(converted)

    def _append(self, message: ChatMessage) -> ChatMessage:
        last = self._messages[-1] if self._messages else None
        if isinstance(message, AssistantMessage) and isinstance(last, AssistantMessage):
            raise LMStudioValueError(
                "The chat already ends with an assistant response; add a user message first."
            )
        self._messages.append(message)
        return message

    # --- reading -----------------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """The messages, in order (a copy: changing it does not change the chat)."""
        return list(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(list(self._messages))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chat) and other._messages == self._messages

    __hash__ = None  # type: ignore[assignment]  # mutable

    def to_wire(self) -> ChatHistoryData:
        """The wire form (``{"messages": [...]}``) of the current history."""
        return ChatHistoryData(messages=list(self._messages))

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self.to_wire())
        return result

    def __repr__(self) -> str:
        return f"Chat.from_history({self.to_dict()!r})"

    def __str__(self) -> str:
        lines = [f"{role_of(m)}: {_message_text(m)}" for m in self._messages]
        return "\n".join(lines) if lines else "(empty chat)"


def to_history(history: ChatHistoryInput) -> ChatHistoryData:
    """The wire history for anything ``respond`` accepts; validates before sending."""
    if isinstance(history, Chat):
        return history.to_wire()
    return Chat.from_history(history).to_wire()


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise LMStudioValueError(f"A {what} must be a string, not {type(value).__name__}.")
    return value


def _check_parts(parts: Sequence[object], allowed: tuple[type, ...], role: str) -> None:
    for part in parts:
        if not isinstance(part, allowed):
            names = ", ".join(t.__name__ for t in allowed)
            raise LMStudioValueError(f"A {role} message may hold {names}, not {part!r}.")


def _to_message(message: ChatMessageInput) -> ChatMessage:
    if isinstance(message, _MESSAGE_TYPES):
        return _copy.deepcopy(message)
    if not isinstance(message, Mapping):
        raise LMStudioValueError(
            f"A chat message must be a dict with 'role' and 'content', not {message!r}."
        )
    role = message.get("role")
    if role not in _ROLES:
        raise LMStudioValueError(
            f"Unknown chat message role {role!r}; valid roles are {', '.join(_ROLES)}."
        )
    content = message.get("content")
    data = dict(message)
    if isinstance(content, str):
        part_type = "toolCallResult" if role == "tool" else "text"
        key = "content" if role == "tool" else "text"
        data["content"] = [{"type": part_type, key: content}]
    try:
        converted: ChatMessage = msgspec.convert(data, ChatMessage, from_attributes=True)
    except msgspec.ValidationError as exc:
        raise LMStudioValueError(f"Invalid {role} message {dict(message)!r}: {exc}") from None
    return converted


def _message_text(message: ChatMessage) -> str:
    pieces: list[str] = []
    for part in message.content:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, FilePart):
            pieces.append(f"[file {part.name}]")
        elif isinstance(part, ToolCallRequestPart):
            pieces.append(f"[tool call {part.tool_call_request.name}]")
        else:
            pieces.append(f"[tool result {part.content}]")
    return " ".join(pieces)
