"""Input as the official SDK takes it, and input no SDK can send: every ``response_format``
form the official accepts, and a clear ``LMStudioValueError`` naming the argument for what
cannot go on the wire (lone surrogates, deep nesting, malformed histories)."""

from __future__ import annotations

from typing import Any

import lmstudio
import msgspec
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lmstudio_async as ours
from lmstudio_async.predict_request import build_chat_request
from lmstudio_async.specifiers import by_identifier
from lmstudio_async.structured import structured_from

# --- response_format: every form the official accepts ------------------------------------


class BookSchema(ours.BaseModel):
    title: str
    year: int


class PydanticBook(pydantic.BaseModel):
    title: str
    year: int


class StructBook(msgspec.Struct):
    title: str
    year: int


class OnlyASchema:
    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {"title": {"type": "string"}}}


BOOK_JSON = '{"title": "The Hobbit", "year": 1937}'
RESPONSE_FORMATS: list[Any] = [
    {"type": "object", "properties": {"title": {"type": "string"}}},
    {"type": "json", "jsonSchema": {"type": "object"}},
    {"type": "json", "json_schema": {"type": "object"}},
    {"type": "gbnf", "gbnfGrammar": 'root ::= "yes" | "no"'},
    {"type": "gbnf", "gbnf_grammar": 'root ::= "yes" | "no"'},
    ours.StructuredSetting(type="json", json_schema={"type": "object"}),
    BookSchema,
    PydanticBook,
    StructBook,
    OnlyASchema,
]


@pytest.mark.parametrize("response_format", RESPONSE_FORMATS, ids=repr)
def test_every_response_format_form_is_accepted(response_format: Any) -> None:
    schema = structured_from(response_format)
    assert schema.setting["type"] in ("json", "gbnf")
    if schema.setting["type"] == "json":
        assert isinstance(schema.setting["jsonSchema"], dict)
    else:
        assert schema.parse("yes") == "yes"


@pytest.mark.parametrize("cls", [BookSchema, PydanticBook, StructBook])
def test_structured_replies_parse_into_the_class_given(cls: type) -> None:
    book = structured_from(cls).parse(BOOK_JSON)
    assert isinstance(book, cls) and book.title == "The Hobbit"  # type: ignore[attr-defined]
    assert BookSchema.model_json_schema() == lmstudio_schema_of_book()


def lmstudio_schema_of_book() -> dict[str, Any]:
    class BookSchema(lmstudio.BaseModel):  # type: ignore[misc]  # the official's, same fields
        title: str
        year: int

    return dict(BookSchema.model_json_schema())


# --- bad input is a clear LMStudioValueError naming the argument (issue 13) ----------------


def deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["properties"] = {}
        node = node["properties"]
    return root


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"history": {"messages": None}}, "'messages' list"),
        ({"history": {"messages": [{"role": "user", "content": None}]}}, "'content'"),
        ({"history": {"messages": "Hi"}}, "'messages' list"),
        ({"history": {"messages": [None]}}, "must be a dict with 'role' and 'content'"),
        ({"history": {"messages": [{"role": 5, "content": "x"}]}}, "valid roles are"),
        ({"history": {"messages": [{"content": "x"}]}}, "valid roles are"),
        ({"history": {"messages": [{"role": "user", "content": [None]}]}}, "Invalid user message"),
        ({"history": [["nested", "list"]]}, "must be a dict"),
        ({"history": b"bytes"}, "Expected a Chat"),
        ({"history": "lone \ud800 surrogate"}, "history holds a lone surrogate"),
        ({"history": {"messages": [{"role": "user", "content": "\udfff"}]}}, "history"),
        ({"response_format": deep(5000)}, "response_format is nested too deeply"),
        ({"response_format": {"type": "object", "title": "\ud83d"}}, "response_format holds"),
        ({"config": {"stopStrings": ["\ud800"]}}, "config"),
        ({"preset": "\ud800"}, "preset holds a lone surrogate"),
        ({"preset": 5}, "preset must be a string"),
    ],
)
def test_unsendable_input_is_a_value_error_naming_the_argument(
    kwargs: dict[str, Any], named: str
) -> None:
    arguments: dict[str, Any] = {"history": "Hi", "config": None, "response_format": None}
    arguments.update(kwargs)
    with pytest.raises(ours.LMStudioValueError, match=named):
        build_chat_request(by_identifier("m"), **arguments)


def test_a_deep_history_is_a_value_error() -> None:
    request = {"type": "function", "name": "f", "arguments": deep(5000)}
    message = {
        "role": "assistant",
        "content": [{"type": "toolCallRequest", "toolCallRequest": request}],
    }
    with pytest.raises(ours.LMStudioValueError, match="history is nested too deeply"):
        build_chat_request(by_identifier("m"), {"messages": [message]}, None, None)


# --- property: whatever text or schema, a clear error or a request, nothing else ----------

any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=20,
)


def encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@given(any_text)
def test_any_text_is_a_request_exactly_when_it_can_be_sent(text: str) -> None:
    try:
        build_chat_request(by_identifier("m"), text, None, None)
    except ours.LMStudioValueError:
        assert not encodes(text)
    else:
        assert encodes(text)


@given(st.dictionaries(any_text, json_values, max_size=4))
def test_any_response_format_dict_is_a_setting_or_a_value_error(schema: dict[str, Any]) -> None:
    complaint = ""
    try:
        build_chat_request(by_identifier("m"), "Hi", None, schema)
    except ours.LMStudioValueError as error:
        complaint = str(error)
    assert not complaint or "response_format" in complaint
