"""``Chat``: building histories, their wire form, and the mistakes it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async import Chat, LMStudioValueError
from lmstudio_async.protocol import AssistantMessage, SystemMessage, TextPart, UserMessage

texts = st.text(max_size=40)


def test_a_chat_serialises_to_the_wire_format() -> None:
    chat = Chat("You are terse.")
    chat.add_user_message("Hello")
    chat.add_assistant_response("Hi.")
    assert chat.to_dict() == {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "You are terse."}]},
            {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]},
        ]
    }


def test_consecutive_user_messages_merge_into_one() -> None:
    chat = Chat()
    chat.add_user_message("one")
    chat.add_user_message("two")
    assert len(chat) == 1
    assert chat.messages[0] == UserMessage(content=[TextPart(text="one"), TextPart(text="two")])


def test_impossible_turn_orders_are_refused() -> None:
    chat = Chat("first")
    with pytest.raises(LMStudioValueError, match="already ends with a system prompt"):
        chat.add_system_prompt("second")
    chat.add_user_message("q")
    chat.add_assistant_response("a")
    with pytest.raises(LMStudioValueError, match="already ends with an assistant response"):
        chat.add_assistant_response("b")


def test_append_takes_what_on_message_gives_and_dict_messages() -> None:
    chat = Chat()
    chat.append({"role": "user", "content": "Hi"})
    chat.append(AssistantMessage(content=[TextPart(text="Hello!")]))
    chat.append({"role": "user", "content": [{"type": "text", "text": "More"}]})
    assert chat.summary() == "user: Hi\nassistant: Hello!\nuser: More"


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        ({"role": "robot", "content": "x"}, "Unknown chat message role 'robot'"),
        ({"role": "user", "content": [{"type": "video"}]}, "Invalid user message"),
        ("just text", "must be a dict"),
    ],
)
def test_bad_messages_are_named(message: object, complaint: str) -> None:
    with pytest.raises(LMStudioValueError, match=complaint):
        Chat().append(message)  # type: ignore[arg-type]


def test_from_history_accepts_every_history_form_and_copies() -> None:
    original = Chat("sys")
    original.add_user_message("hi")
    forms: list[object] = [
        original,
        original.to_dict(),
        original.to_dict()["messages"],
        original.to_wire(),
    ]
    for form in forms:
        copy = Chat.from_history(form)  # type: ignore[arg-type]
        assert copy == original
        copy.add_assistant_response("changed")
        assert len(original) == 2
    assert Chat.from_history("hi").messages == [UserMessage(content=[TextPart(text="hi")])]
    with pytest.raises(LMStudioValueError, match="needs a 'messages' list"):
        Chat.from_history({"msgs": []})


def test_copy_is_independent() -> None:
    chat = Chat("sys")
    twin = chat.copy()
    twin.add_user_message("only in the twin")
    assert len(chat) == 1
    assert len(twin) == 2
    assert isinstance(twin.messages[0], SystemMessage)


@given(st.lists(st.tuples(texts, texts), max_size=6), st.one_of(st.none(), texts))
def test_any_conversation_round_trips_through_its_dict_form(
    turns: list[tuple[str, str]], system: str | None
) -> None:
    chat = Chat(system)
    for question, answer in turns:
        chat.add_user_message(question)
        chat.add_assistant_response(answer)
    assert Chat.from_history(chat.to_dict()) == chat
    assert eval(repr(chat), {"Chat": Chat}) == chat
