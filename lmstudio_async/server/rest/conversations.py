"""Stored responses, for ``previous_response_id`` (``/v1/responses``, ``/api/v1/chat``).

LM Studio keeps them on disk; this server keeps the most recent ones in memory,
within a bounded count and size (oldest forgotten first), which is what a test
run needs. A conversation larger than the whole budget is not stored: following
up on it reports ``previous_response_not_found``.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

import msgspec

from ...protocol import ChatMessage
from .errors import RestError

__all__ = ["Conversation", "ConversationStore", "new_response_id"]

_ENCODE = msgspec.json.Encoder().encode

#: Stored responses kept per server; older ones are forgotten.
MAX_STORED = 1024
#: Total size of the stored conversations (their JSON), in bytes.
MAX_STORED_BYTES = 64 * 1024 * 1024


def new_response_id() -> str:
    """``resp_`` + 48 hex characters, LM Studio's form (REST.md 8.2)."""
    return "resp_" + secrets.token_hex(24)


@dataclass(frozen=True)
class Conversation:
    """Everything a follow-up request continues from."""

    system: str | None
    #: The messages after the system prompt, the stored reply last.
    messages: tuple[ChatMessage, ...]


class ConversationStore:
    def __init__(self, limit: int = MAX_STORED, max_bytes: int = MAX_STORED_BYTES) -> None:
        self._limit = limit
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[str, tuple[Conversation, int]] = OrderedDict()

    def get(self, response_id: str, *, param: str = "previous_response_id") -> Conversation:
        entry = self._items.get(response_id)
        if entry is None:
            raise RestError(
                400,
                f"Previous response with id '{response_id}' not found.",
                param=param,
                code="previous_response_not_found",
            )
        self._items.move_to_end(response_id)
        return entry[0]

    def put(self, response_id: str, conversation: Conversation) -> None:
        size = len(_ENCODE(conversation.messages)) + len(conversation.system or "")
        if size > self._max_bytes:
            return
        self._items[response_id] = (conversation, size)
        self._bytes += size
        while len(self._items) > self._limit or self._bytes > self._max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)
