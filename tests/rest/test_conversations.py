"""The store behind ``previous_response_id`` stays within its count and size bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.protocol import TextPart, UserMessage
from lmstudio_async.server.rest.conversations import Conversation, ConversationStore
from lmstudio_async.server.rest.errors import RestError


def _conversation(text: str) -> Conversation:
    return Conversation(None, (UserMessage(content=[TextPart(text=text)]),))


@given(sizes=st.lists(st.integers(min_value=0, max_value=300), max_size=40))
def test_the_newest_conversations_are_kept_within_the_bounds(sizes: list[int]) -> None:
    store = ConversationStore(limit=5, max_bytes=1000)
    for index, size in enumerate(sizes):
        store.put(f"resp_{index}", _conversation("x" * size))
    assert len(store) <= 5
    # The newest one is always kept (each fits the budget on its own).
    if sizes:
        assert store.get(f"resp_{len(sizes) - 1}").messages


def test_a_forgotten_or_oversized_conversation_is_not_found() -> None:
    store = ConversationStore(limit=2, max_bytes=200)
    store.put("resp_big", _conversation("x" * 500))
    for name in ("resp_a", "resp_b", "resp_c"):
        store.put(name, _conversation(name))
    for gone in ("resp_big", "resp_a"):
        with pytest.raises(RestError) as caught:
            store.get(gone)
        assert caught.value.code == "previous_response_not_found"
    assert store.get("resp_c").messages
