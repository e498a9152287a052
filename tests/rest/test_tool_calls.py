"""``tools`` / ``tool_choice`` on ``/v1/chat/completions`` and ``/v1/responses``.

The scripted engine calls a tool when the last user message names it, with the
JSON object written after the name as arguments (see ``engines/scripted_tools``).
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.chat import (
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from lmstudio_async.server import LocalServer

from .conftest import LLM

pytestmark = pytest.mark.anyio

ADD: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
NOW: ChatCompletionToolParam = {"type": "function", "function": {"name": "now"}}
ASK_ADD: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": 'What is add {"a": 1, "b": 2}?'}
]


def function_calls(message: ChatCompletionMessage) -> list[ChatCompletionMessageFunctionToolCall]:
    calls = message.tool_calls or []
    assert all(isinstance(call, ChatCompletionMessageFunctionToolCall) for call in calls)
    return [call for call in calls if isinstance(call, ChatCompletionMessageFunctionToolCall)]


async def test_a_tool_call_in_the_reply(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=LLM, messages=ASK_ADD, tools=[ADD])
    (choice,) = reply.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = function_calls(choice.message)
    assert call.type == "function" and call.id
    assert call.function.name == "add"
    assert json.loads(call.function.arguments) == {"a": 1, "b": 2}


async def test_streamed_tool_call_deltas_rebuild_the_call(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model=LLM, messages=ASK_ADD, tools=[ADD], stream=True
    )
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    async for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
            if delta.id:
                assert call["id"] is None, "the id comes once, in the first fragment"
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] += delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments
    assert finish == "tool_calls"
    assert list(calls) == [0]
    assert calls[0]["id"] and calls[0]["name"] == "add"
    assert json.loads(calls[0]["arguments"]) == {"a": 1, "b": 2}


async def test_parallel_calls_have_distinct_indices(oai: openai.AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": 'Call add {"a": 2, "b": 3} then now'}
    ]
    whole = await oai.chat.completions.create(model=LLM, messages=messages, tools=[ADD, NOW])
    names = [call.function.name for call in function_calls(whole.choices[0].message)]
    assert names == ["add", "now"]
    stream = await oai.chat.completions.create(
        model=LLM, messages=messages, tools=[ADD, NOW], stream=True
    )
    first_fragments = [
        (delta.index, delta.function.name if delta.function else None)
        async for chunk in stream
        for delta in chunk.choices[0].delta.tool_calls or []
        if delta.id
    ]
    assert first_fragments == [(0, "add"), (1, "now")]


async def test_tool_choice_none_means_no_call(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(
        model=LLM, messages=ASK_ADD, tools=[ADD], tool_choice="none"
    )
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content


async def test_tool_choice_required_forces_a_call(oai: openai.AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]
    plain = await oai.chat.completions.create(model=LLM, messages=messages, tools=[ADD])
    assert plain.choices[0].message.tool_calls is None
    forced = await oai.chat.completions.create(
        model=LLM, messages=messages, tools=[ADD], tool_choice="required"
    )
    (call,) = function_calls(forced.choices[0].message)
    assert call.function.name == "add"
    assert set(json.loads(call.function.arguments)) >= {"a", "b"}


async def test_a_named_tool_choice_calls_that_tool(oai: openai.AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]
    reply = await oai.chat.completions.create(
        model=LLM,
        messages=messages,
        tools=[ADD, NOW],
        tool_choice={"type": "function", "function": {"name": "now"}},
    )
    (call,) = function_calls(reply.choices[0].message)
    assert call.function.name == "now"
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(
            model=LLM,
            messages=messages,
            tools=[ADD],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )
    assert caught.value.param == "tool_choice"


async def test_the_tool_result_round_trip(oai: openai.AsyncOpenAI) -> None:
    first = await oai.chat.completions.create(model=LLM, messages=ASK_ADD, tools=[ADD])
    (call,) = function_calls(first.choices[0].message)
    follow_up: list[ChatCompletionMessageParam] = [
        *ASK_ADD,
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "add", "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "3"},
    ]
    reply = await oai.chat.completions.create(model=LLM, messages=follow_up, tools=[ADD])
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.choices[0].message.content or "").startswith("Tool result: 3.")


async def test_an_unparsable_call_is_left_as_text(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    server.state.faults.tool_calls = "malformed"
    reply = await oai.chat.completions.create(model=LLM, messages=ASK_ADD, tools=[ADD])
    choice = reply.choices[0]
    assert choice.message.tool_calls is None and choice.finish_reason == "stop"
    assert "<tool_call>" in (choice.message.content or "")


async def test_responses_function_call_items(oai: openai.AsyncOpenAI) -> None:
    function = ADD["function"]
    tool: Any = {"type": "function", "name": "add", "parameters": function.get("parameters")}
    reply = await oai.responses.create(model=LLM, input=ASK_ADD[0]["content"], tools=[tool])  # type: ignore[arg-type]
    (item,) = reply.output
    assert item.type == "function_call"
    assert item.name == "add" and json.loads(item.arguments) == {"a": 1, "b": 2}
    result = await oai.responses.create(
        model=LLM,
        previous_response_id=reply.id,
        input=[{"type": "function_call_output", "call_id": item.call_id, "output": "3"}],
        tools=[tool],
    )
    assert result.output_text.startswith("Tool result: 3.")


async def test_responses_stream_a_function_call(oai: openai.AsyncOpenAI) -> None:
    tool: Any = {"type": "function", "name": "add", "parameters": ADD["function"].get("parameters")}
    async with oai.responses.stream(model=LLM, input='add {"a": 5, "b": 6}', tools=[tool]) as s:
        types = [event.type async for event in s]
        final = await s.get_final_response()
    assert "response.function_call_arguments.done" in types
    (item,) = final.output
    assert item.type == "function_call" and json.loads(item.arguments) == {"a": 5, "b": 6}
