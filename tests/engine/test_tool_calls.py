"""The engine side of tool use: offers from configs, the scripted rule, the streaming parser."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmstudio_async.protocol import (
    ChatHistoryData,
    TextPart,
    ToolCallResultPart,
    ToolMessage,
    UserMessage,
)
from lmstudio_async.server.api import ServerError
from lmstudio_async.server.config import ServerConfig
from lmstudio_async.server.engines.base import GeneratedPiece
from lmstudio_async.server.engines.catalog import BUILTIN_CATALOG
from lmstudio_async.server.engines.load_settings import resolve_load_settings
from lmstudio_async.server.engines.prediction_settings import resolve_prediction_settings
from lmstudio_async.server.engines.scripted import ScriptedModel
from lmstudio_async.server.engines.template import TemplateOptions
from lmstudio_async.server.engines.tools import (
    MAX_OFFERED_TOOLS,
    PredictionEvent,
    ToolCallArgumentsFragment,
    ToolCallFailed,
    ToolCallFinished,
    ToolCallNamed,
    ToolCallParser,
    ToolCallStarted,
    tool_offer_from_config,
)

from .helpers import stack

pytestmark = pytest.mark.anyio

LLAMA = next(e for e in BUILTIN_CATALOG if e.info.model_key == "llama-3.2-1b-instruct")
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
NOW = {"type": "function", "function": {"name": "now"}}


def _tools(*tools: Any, **extra: Any) -> dict[str, Any]:
    return {"llm.prediction.tools": {"type": "toolArray", "tools": list(tools)}, **extra}


def _model() -> ScriptedModel:
    settings = resolve_load_settings(LLAMA.info, stack())
    return ScriptedModel(LLAMA, settings, ServerConfig(reply_tokens=(8, 16)))


async def _events(history: ChatHistoryData, fields: dict[str, Any]) -> list[PredictionEvent]:
    model = _model()
    settings = resolve_prediction_settings(stack(fields))
    offer = settings.tools
    options = TemplateOptions(tool_definitions=offer.definitions() if offer else ())
    prompt = model.apply_prompt_template(history, settings, options)
    prediction = model.predict(prompt, settings)
    events = [event async for event in prediction]
    assert prediction.outcome is not None
    if any(isinstance(e, ToolCallStarted) for e in events):
        assert prediction.outcome.stop_reason == "toolCalls"
    return events


def _user(text: str) -> ChatHistoryData:
    return ChatHistoryData(messages=[UserMessage(content=[TextPart(text=text)])])


def _calls(events: list[PredictionEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, e.arguments) for e in events if isinstance(e, ToolCallFinished)]


def test_offer_reads_tools_and_choice() -> None:
    offer = tool_offer_from_config({"type": "toolArray", "tools": [ADD, NOW]})
    assert offer is not None and offer.choice == "auto" and offer.active
    assert [tool.name for tool in offer.tools] == ["add", "now"]
    assert offer.find("add") is not None and offer.find("sub") is None
    assert offer.definitions()[0] == ADD
    assert tool_offer_from_config({"type": "none"}) is None
    required = tool_offer_from_config({"type": "toolArray", "tools": [ADD], "force": True})
    assert required is not None and required.choice == "required"
    none = tool_offer_from_config({"type": "toolArray", "tools": [ADD]}, {"mode": "none"})
    assert none is not None and not none.active


@pytest.mark.parametrize(
    "tools",
    [
        {"type": "toolArray", "tools": [{"type": "function"}]},
        {"type": "toolArray", "tools": [{"type": "function", "function": {"name": ""}}]},
        {"type": "toolArray", "tools": [ADD, ADD]},
        {"type": "toolArray", "tools": "add"},
        {"type": "toolArray", "tools": [NOW] * (MAX_OFFERED_TOOLS + 1)},
        {"type": "mystery"},
    ],
)
def test_invalid_offers_are_rejected(tools: Any) -> None:
    with pytest.raises(ServerError):
        tool_offer_from_config(tools)


def test_invalid_choice_is_rejected() -> None:
    with pytest.raises(ServerError, match="tool choice"):
        tool_offer_from_config({"type": "toolArray", "tools": [ADD]}, {"mode": "always"})


async def test_named_tool_with_json_arguments_is_called_with_them() -> None:
    events = await _events(_user('What is add {"a": 1, "b": 2}?'), _tools(ADD))
    assert not [e for e in events if isinstance(e, GeneratedPiece)]
    assert _calls(events) == [("add", {"a": 1, "b": 2})]
    kinds = [type(e) for e in events]
    assert kinds[:2] == [ToolCallStarted, ToolCallNamed] and kinds[-1] is ToolCallFinished
    streamed = "".join(e.text for e in events if isinstance(e, ToolCallArgumentsFragment))
    assert json.loads(streamed) == {"a": 1, "b": 2}


async def test_tools_named_several_times_are_called_in_order() -> None:
    events = await _events(_user('now, then add({"a": 5, "b": 6}), then now'), _tools(ADD, NOW))
    assert [name for name, _ in _calls(events)] == ["now", "add", "now"]
    ids = [e.call_id for e in events if isinstance(e, ToolCallStarted)]
    assert len(set(ids)) == 3


async def test_tool_named_without_arguments_gets_schema_values() -> None:
    first = _calls(await _events(_user("Please add these."), _tools(ADD)))
    again = _calls(await _events(_user("Please add these."), _tools(ADD)))
    assert first == again
    [(name, arguments)] = first
    assert name == "add" and set(arguments) == {"a", "b"}
    assert all(isinstance(value, int) for value in arguments.values())


async def test_broken_json_after_a_name_is_a_failed_call() -> None:
    events = await _events(_user('add {"a": 1, oops'), _tools(ADD))
    assert isinstance(events[0], ToolCallStarted) and isinstance(events[-1], ToolCallFailed)
    assert not _calls(events)


async def test_unnamed_tools_give_prose_unless_required() -> None:
    prose = await _events(_user("Hello there"), _tools(ADD))
    assert prose and all(isinstance(e, GeneratedPiece) for e in prose)
    required = await _events(
        _user("Hello there"),
        _tools(ADD, NOW, **{"llm.prediction.toolChoice": {"mode": "required"}}),
    )
    assert [name for name, _ in _calls(required)] == ["add"]
    none = await _events(
        _user("add {}"), _tools(ADD, **{"llm.prediction.toolChoice": {"mode": "none"}})
    )
    assert not _calls(none)


async def test_tool_results_are_answered_in_prose_that_quotes_them() -> None:
    history = _user('add {"a": 1, "b": 2}')
    history.messages.append(
        ToolMessage(content=[ToolCallResultPart(content="3", tool_call_id="x")])
    )
    for fields in (_tools(ADD), {}):
        events = await _events(history, fields)
        assert all(isinstance(e, GeneratedPiece) for e in events)
        text = "".join(e.text for e in events if isinstance(e, GeneratedPiece))
        assert text.startswith("Tool result: 3.")


def _parse(chunks: list[str]) -> list[PredictionEvent]:
    ids = iter(range(100))
    parser = ToolCallParser(lambda: f"call_{next(ids)}")
    events: list[PredictionEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.finish())
    return events


def _chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@given(st.lists(st.integers(min_value=0, max_value=500), max_size=12))
def test_parser_gives_the_same_events_however_the_text_is_split(cuts: list[int]) -> None:
    text = (
        'Let me check. <tool_call>\n{"name": "add", "arguments": {"a": 1, "b": [2, {"c": "}"}]}}'
        '\n</tool_call><tool_call>{"name": "now", "arguments": {}}</tool_call> done'
    )
    events = _parse(_chunked(text, cuts))
    prose = "".join(e.text for e in events if isinstance(e, GeneratedPiece))
    assert prose == "Let me check.  done"
    assert _calls(events) == [("add", {"a": 1, "b": [2, {"c": "}"}]}), ("now", {})]
    assert [e.name for e in events if isinstance(e, ToolCallNamed)] == ["add", "now"]
    first_call = events[: next(i for i, e in enumerate(events) if isinstance(e, ToolCallFinished))]
    streamed = "".join(e.text for e in first_call if isinstance(e, ToolCallArgumentsFragment))
    assert json.loads(streamed) == {"a": 1, "b": [2, {"c": "}"}]}


def test_parser_reports_broken_and_unterminated_calls() -> None:
    broken = _parse(["<tool_call>{name: add}</tool_call>"])
    assert isinstance(broken[-1], ToolCallFailed) and broken[-1].raw is not None
    unterminated = _parse(['<tool_call>{"name": "add", "arguments": {"a": 1}}'])
    assert _calls(unterminated) == [("add", {"a": 1})]
    text_only = _parse(["a < b, and <tool", " is not a tag"])
    assert "".join(e.text for e in text_only if isinstance(e, GeneratedPiece)) == (
        "a < b, and <tool is not a tag"
    )
