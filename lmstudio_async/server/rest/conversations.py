"""Stored responses, for ``previous_response_id`` (``/v1/responses``, ``/api/v1/chat``).

LM Studio keeps them on disk; this server keeps the most recent ones in memory
(a bounded number, oldest forgotten first), which is what a test run needs.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from ...protocol import ChatMessage
from .errors import RestError

__all__ = ["Conversation", "ConversationStore", "new_response_id"]

#: Stored responses kept per server; older ones are forgotten.
MAX_STORED = 1024


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
    def __init__(self, limit: int = MAX_STORED) -> None:
        self._limit = limit
        self._items: OrderedDict[str, Conversation] = OrderedDict()

    def get(self, response_id: str, *, param: str = "previous_response_id") -> Conversation:
        conversation = self._items.get(response_id)
        if conversation is None:
            raise RestError(
                400,
                f"Previous response with id '{response_id}' not found.",
                param=param,
                code="previous_response_not_found",
            )
        self._items.move_to_end(response_id)
        return conversation

    def put(self, response_id: str, conversation: Conversation) -> None:
        self._items[response_id] = conversation
        self._items.move_to_end(response_id)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
