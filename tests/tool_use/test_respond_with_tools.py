"""Tool calls without execution: ``respond(tools=...)`` returns the model's requests, and
``Chat.add_tool_result(s)`` records the answers for the next round."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from lmstudio_async import AsyncClient, AsyncLLM, Chat, LMStudioValueError, ToolCallResultData
from lmstudio_async.protocol import ToolCallRequestPart, ToolMessage
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
#: An OpenAI-style definition without an implementation: the application runs the tool.
WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)


async def test_respond_returns_requests_and_the_next_round_sees_the_answers(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    chat = Chat()
    chat.add_user_message('weather {"city": "Oslo"} and weather {"city": "Lima"}')
    result = await llm.respond(chat, tools=[WEATHER], on_message=chat.append)
    assert result.stats.stop_reason == "toolCalls"
    assert result.content == ""
    assert [(r.name, r.arguments) for r in result.tool_call_requests] == [
        ("weather", {"city": "Oslo"}),
        ("weather", {"city": "Lima"}),
    ]
    recorded = chat.messages[-1].content
    assert [p.tool_call_request for p in recorded if isinstance(p, ToolCallRequestPart)] == (
        result.tool_call_requests
    )
    first, second = result.tool_call_requests
    chat.add_tool_results(
        [
            ToolCallResultData(content='"rain"', tool_call_id=first.id),
            {"content": '"sun"', "tool_call_id": second.id},
        ]
    )
    answer = await llm.respond(chat, tools=[WEATHER])
    assert answer.tool_call_requests == []
    assert answer.content.startswith('Tool result: "rain". Tool result: "sun".')
    sent = lmstudio_server.requests()[-1]["message"]["creationParameter"]["history"]["messages"]
    assert sent[-1] == {
        "role": "tool",
        "content": [
            {"type": "toolCallResult", "content": '"rain"', "toolCallId": first.id},
            {"type": "toolCallResult", "content": '"sun"', "toolCallId": second.id},
        ],
    }


async def test_respond_stream_with_tools_streams_text_and_collects_calls(llm: AsyncLLM) -> None:
    def clock() -> str:
        """The time."""
        return "noon"

    stream = llm.respond_stream("clock please", tools=[clock])
    fragments = [fragment async for fragment in stream]
    result = stream.result()
    assert fragments == []
    assert [r.name for r in result.tool_call_requests] == ["clock"]
    # Without tools named, the model answers in prose and requests nothing.
    prose = await llm.respond("hello", tools=[clock])
    assert prose.content and prose.tool_call_requests == []


async def test_failed_calls_are_reported_on_the_result(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(tool_calls="malformed")
    result = await llm.respond('weather {"city": "Oslo"}', tools=[WEATHER])
    assert result.tool_call_requests == []
    assert len(result.tool_call_errors) == 1
    assert "Failed to parse tool call request" in result.tool_call_errors[0]


def test_chat_records_tool_calls_and_results_as_lm_studio_expects() -> None:
    chat = Chat()
    chat.add_user_message("Add")
    request = {"name": "add", "id": "call_1", "arguments": {"a": 1, "b": 2}}
    chat.add_assistant_response("", [request])
    chat.add_tool_result({"content": "3", "toolCallId": "call_1"})
    assert chat.to_dict()["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": ""},
                {
                    "type": "toolCallRequest",
                    "toolCallRequest": {
                        "type": "function",
                        "name": "add",
                        "id": "call_1",
                        "arguments": {"a": 1, "b": 2},
                    },
                },
            ],
        },
        {
            "role": "tool",
            "content": [{"type": "toolCallResult", "content": "3", "toolCallId": "call_1"}],
        },
    ]
    assert isinstance(Chat.from_history(chat.to_dict()).messages[2], ToolMessage)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"content": 3}],
        [{"tool_call_id": "x"}],
        ["text"],
        [{"content": "x", "tool_call_id": 1}],
    ],
)
def test_bad_tool_results_are_rejected(bad: Any) -> None:
    with pytest.raises(LMStudioValueError):
        Chat().add_tool_results(bad)


async def test_bad_tools_are_rejected_before_sending(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    with pytest.raises(LMStudioValueError, match="a list of tool definitions"):
        await llm.respond("hi", tools=WEATHER)  # type: ignore[arg-type]
    with pytest.raises(LMStudioValueError, match="non-empty string"):
        await llm.respond("hi", tools=[{"type": "function", "function": {"name": ""}}])
    sent = [r["message"] for r in lmstudio_server.requests()]
    assert not [m for m in sent if m.get("endpoint") == "predict"]
