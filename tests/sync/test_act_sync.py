"""The blocking ``act()``: tools and callbacks run in the thread that called it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import lmstudio_sync as lms
from lmstudio_async import LMStudioPredictionError, LMStudioValueError, ToolCallRequest
from lmstudio_async.testing import ServerProcess

LLAMA = "llama-3.2-1b-instruct"


@pytest.fixture
def llm(lmstudio_server: ServerProcess) -> Iterator[lms.LLM]:
    with lms.Client(lmstudio_server.api_host) as client:
        yield client.llm.model(LLAMA)


def test_tools_and_callbacks_run_in_the_calling_thread(llm: lms.LLM) -> None:
    threads: list[str] = []
    local = threading.local()
    local.value = 40  # thread-local state is visible to the tools: they run in this thread

    def add(a: int, b: int) -> int:
        """Add."""
        threads.append(threading.current_thread().name)
        return a + b + int(local.value)

    def note(*_: Any) -> None:
        threads.append(threading.current_thread().name)

    messages: list[Any] = []

    def record(message: Any) -> None:
        note()
        messages.append(message)

    result = llm.act(
        'add {"a": 1, "b": 1} add {"a": 2, "b": 2}',
        [add],
        on_message=record,
        on_round_start=note,
        on_prediction_completed=note,
        max_parallel_tool_calls=2,
    )
    assert result.rounds == 2
    assert [part.content for part in messages[1].content] == ["42", "44"]
    assert set(threads) == {threading.current_thread().name}


def test_handler_results_are_used_and_async_tools_rejected(
    llm: lms.LLM, lmstudio_server: ServerProcess
) -> None:
    def handler(error: LMStudioPredictionError, request: ToolCallRequest | None) -> str:
        assert threading.current_thread() is threading.main_thread()
        return f"no tool {request.name if request else '?'} here"

    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    lmstudio_server.set_faults(tool_calls="unknown-tool")
    messages: list[Any] = []
    llm.act("add 1 and 2", [add], handle_invalid_tool_request=handler, on_message=messages.append)
    assert messages[1].content[0].content == "no tool no_such_tool here"

    async def later() -> None:
        """Async."""

    with pytest.raises(LMStudioValueError, match="async function"):
        llm.act("later", [later])


def test_tool_calls_without_execution(llm: lms.LLM) -> None:
    chat = lms.Chat()
    chat.add_user_message('add {"a": 2, "b": 3}')
    spec = {"name": "add", "description": "Add.", "parameters": {"a": int, "b": int}}
    result = llm.respond(chat, tools=[spec], on_message=chat.append)
    [request] = result.tool_call_requests
    assert request.arguments == {"a": 2, "b": 3}
    chat.add_tool_result({"content": "5", "tool_call_id": request.id})
    assert llm.respond(chat).content.startswith("Tool result: 5.")
