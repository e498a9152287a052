"""``Chat``: a conversation history to send to an LLM. No I/O: shared by the async and sync APIs.

Messages are kept in their wire form (PROTOCOL.md section 8), so sending a chat
costs one encode and nothing else.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Union

import msgspec

from .errors import LMStudioRuntimeError, LMStudioValueError
from .files import FileHandleInput, to_file_parts
from .protocol import (
    AssistantMessage,
    ChatHistoryData,
    ChatMessage,
    FilePart,
    FunctionToolCallRequest,
    SystemMessage,
    TextPart,
    ToolCallRequestPart,
    ToolCallResultPart,
    ToolMessage,
    UserMessage,
    role_of,
)
from .protocol.base import camel_keys, format_json
from .tools.chat_parts import (
    ToolCallResultInput,
    response_text,
    tool_call_parts,
    tool_result_message,
)

__all__ = ["Chat", "ChatHistoryInput", "ChatMessageInput", "AssistantResponse"]


class ChatOrderError(LMStudioRuntimeError, LMStudioValueError):
    """A message that cannot follow the chat's last one (e.g. two system prompts).

    A runtime error, as the official SDK raises, and a value error, as this SDK did.
    """


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

    def __init__(self, initial_prompt: str | TextPart | Mapping[str, Any] | None = None) -> None:
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
            messages = history.get("messages")
            if not isinstance(messages, (list, tuple)):
                raise LMStudioValueError(
                    f"A chat history dict needs a 'messages' list, not {messages!r}, e.g. "
                    "{'messages': [{'role': 'user', 'content': 'Hi'}]}."
                )
            for message in messages:
                chat._messages.append(_to_message(message))
        elif isinstance(history, Sequence) and not isinstance(history, (bytes, bytearray)):
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

    def add_system_prompt(self, prompt: str | TextPart | Mapping[str, Any]) -> SystemMessage:
        """Add a system prompt (instructions for the model)."""
        if self._messages and isinstance(self._messages[-1], SystemMessage):
            raise ChatOrderError(
                "The chat already ends with a system prompt; combine the two prompts into one."
            )
        message = SystemMessage(content=[_part(prompt, (TextPart,), "system prompt")])
        self._messages.append(message)
        return message

    def add_user_message(
        self,
        content: str | TextPart | FilePart | Mapping[str, Any] | Iterable[Any],
        *,
        images: Iterable[FileHandleInput] = (),
    ) -> UserMessage:
        """Add a user message: text, a file (image), a part dict, or several of those.

        ``images`` are handles from ``prepare_image`` (or their dict form), sent after the
        text. Consecutive user messages are merged into one.
        """
        parts: list[TextPart | FilePart] = _parts(content, (TextPart, FilePart), "user message")
        parts.extend(to_file_parts(images))
        last = self._messages[-1] if self._messages else None
        if isinstance(last, UserMessage):
            last.content.extend(parts)
            return last
        message = UserMessage(content=parts)
        self._messages.append(message)
        return message

    def add_assistant_response(
        self,
        response: str | TextPart | Mapping[str, Any] | Any,
        tool_call_requests: Iterable[
            ToolCallRequestPart | FunctionToolCallRequest | Mapping[str, Any]
        ] = (),
    ) -> AssistantMessage:
        """Add the assistant's reply (text, a text part, or a prediction result), with any
        tool calls it made (requests, or their part dicts)."""
        parts: list[TextPart | FilePart | ToolCallRequestPart] = [
            _part(response_text(response), (TextPart, FilePart), "assistant response")
        ]
        for request in tool_call_requests:
            if isinstance(request, Mapping) and "name" not in request:  # a part dict
                parts.append(_part(request, (ToolCallRequestPart,), "tool call request"))
            else:
                parts.extend(tool_call_parts([request]))
        message = AssistantMessage(content=parts)
        self._append(message)
        return message

    def add_entry(self, role: str, content: Any) -> ChatMessage:
        """Add a message by role (``system``, ``user``, ``assistant`` or ``tool``)."""
        if role == "system":
            return self.add_system_prompt(content)
        if role == "user":
            return self.add_user_message(content)
        if role == "assistant":
            return self.add_assistant_response(content)
        if role == "tool":
            results = [content] if isinstance(content, (Mapping, ToolCallResultPart)) else content
            parts = [_part(r, (ToolCallResultPart,), "tool result") for r in _iterable(results)]
            return self._append(ToolMessage(content=parts))
        raise LMStudioValueError(
            f"Unknown chat message role {role!r}; valid roles are {', '.join(_ROLES)}."
        )

    def add_tool_results(self, results: Iterable[ToolCallResultInput]) -> ToolMessage:
        """Add the answers to the model's tool calls, as one ``tool`` message."""
        message = tool_result_message(results)
        self._append(message)
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
                raise ChatOrderError("The chat already ends with a system prompt.")
            self._messages.append(converted)
            return converted
        return self._append(converted)

    def _append(self, message: ChatMessage) -> ChatMessage:
        last = self._messages[-1] if self._messages else None
        if isinstance(message, AssistantMessage) and isinstance(last, AssistantMessage):
            raise ChatOrderError(
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
        # The official SDK's form (indented JSON); ``summary()`` is one line per message.
        return f"Chat.from_history({format_json(self.to_dict())})"

    def summary(self) -> str:
        """One ``role: text`` line per message."""
        lines = [f"{role_of(m)}: {_message_text(m)}" for m in self._messages]
        return "\n".join(lines) if lines else "(empty chat)"


def to_history(history: ChatHistoryInput) -> ChatHistoryData:
    """The wire history for anything ``respond`` accepts; validates before sending."""
    if isinstance(history, Chat):
        return history.to_wire()
    return Chat.from_history(history).to_wire()


_PART_NAMES: dict[type[Any], str] = {
    TextPart: "text ('a string' or {'type': 'text', 'text': ...})",
    FilePart: "a file handle ({'type': 'file', 'identifier': ...})",
    ToolCallRequestPart: "a tool call request ({'type': 'toolCallRequest', ...})",
    ToolCallResultPart: "a tool result ({'type': 'toolCallResult', 'content': ...})",
}


def _part(value: Any, allowed: tuple[type[Any], ...], what: str) -> Any:
    """One message part from a string, a part struct or its dict form."""
    if isinstance(value, str) and TextPart in allowed:
        return TextPart(text=value)
    if isinstance(value, allowed):
        return _copy.deepcopy(value)
    if isinstance(value, Mapping):
        union: Any = Union[allowed] if len(allowed) > 1 else allowed[0]  # noqa: UP007
        try:
            return msgspec.convert(camel_keys(value), union)
        except (msgspec.ValidationError, RecursionError):
            pass
    valid = "; ".join(_PART_NAMES[t] for t in allowed)
    raise LMStudioValueError(f"Invalid {what} {_short(value)}: expected {valid}.")


def _parts(content: Any, allowed: tuple[type[Any], ...], what: str) -> list[Any]:
    if isinstance(content, (str, Mapping, *allowed)):
        return [_part(content, allowed, what)]
    return [_part(item, allowed, what) for item in _iterable(content, what)]


def _iterable(value: Any, what: str = "content") -> Iterable[Any]:
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return value
    raise LMStudioValueError(f"Invalid {what} {_short(value)}: expected a part or a list of parts.")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


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
    data = camel_keys(message)
    if isinstance(content, str):
        part_type = "toolCallResult" if role == "tool" else "text"
        key = "content" if role == "tool" else "text"
        data["content"] = [{"type": part_type, key: content}]
    elif not isinstance(content, (list, tuple)):
        raise LMStudioValueError(
            f"Invalid {role} message: 'content' must be a string or a list of parts, "
            f"not {_short(content)}."
        )
    try:
        converted: ChatMessage = msgspec.convert(data, ChatMessage, from_attributes=True)
    except (msgspec.ValidationError, RecursionError) as exc:
        raise LMStudioValueError(f"Invalid {role} message {_short(dict(message))}: {exc}") from None
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
