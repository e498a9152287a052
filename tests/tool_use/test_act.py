"""``act()`` against the local server's scripted model (its tool-call rule: a user message that
names a tool, optionally followed by JSON arguments, calls it)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any, TypedDict

import anyio
import msgspec
import pydantic
import pytest

from lmstudio_async import (
    ActResult,
    AsyncClient,
    AsyncLLM,
    Chat,
    LMStudioPredictionError,
    LMStudioValueError,
    PredictionRoundResult,
    ToolCallRequest,
    ToolFunctionDef,
)
from lmstudio_async.protocol import AssistantMessage, ToolCallRequestPart, ToolMessage
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
SAFETY = 30  # seconds; only a safety net against a hang, never reached when things work


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Box(msgspec.Struct):
    width: int


class Owner(pydantic.BaseModel):
    name: str


class Tag(TypedDict):
    label: str


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)


@pytest.fixture
async def slow_llm(lmstudio_server_factory: Any) -> AsyncIterator[tuple[AsyncLLM, ServerProcess]]:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "300:300")
    async with AsyncClient(server.api_host) as client:
        yield await client.llm.model(LLAMA), server


def predict_requests(server: ServerProcess) -> list[dict[str, Any]]:
    return [
        r["message"]["creationParameter"]
        for r in server.requests()
        if r["message"].get("type") == "channelCreate" and r["message"]["endpoint"] == "predict"
    ]


def offered_tools(parameter: dict[str, Any]) -> list[str] | None:
    for layer in parameter["predictionConfigStack"]["layers"]:
        for field in layer["config"]["fields"]:
            if field["key"] == "llm.prediction.tools":
                return [tool["function"]["name"] for tool in field["value"]["tools"]]
    return None


def cancels_sent(server: ServerProcess) -> int:
    return sum(
        1
        for r in server.requests()
        if r["message"].get("type") == "channelSend" and r["message"]["message"]["type"] == "cancel"
    )


async def test_act_runs_the_tools_and_reports_every_step(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    events: list[Any] = []
    messages: list[Any] = []
    result = await llm.act(
        'What is add {"a": 1234, "b": 4321}?',
        [add],
        on_message=messages.append,
        on_round_start=lambda i: events.append(("start", i)),
        on_round_end=lambda i: events.append(("end", i)),
        on_first_token=lambda i: events.append(("first token", i)),
        on_prediction_completed=lambda r: events.append(("completed", r.round_index)),
        on_prediction_fragment=lambda f, i: events.append(("fragment", i)),
    )
    assert isinstance(result, ActResult) and result.rounds == 2
    assert result.total_time_seconds > 0
    assert [type(m) for m in messages] == [AssistantMessage, ToolMessage, AssistantMessage]
    call = messages[0].content[1]
    assert isinstance(call, ToolCallRequestPart)
    assert (call.tool_call_request.name, call.tool_call_request.arguments) == (
        "add",
        {"a": 1234, "b": 4321},
    )
    assert messages[1].content[0].content == "5555"
    assert messages[1].content[0].tool_call_id == call.tool_call_request.id
    assert messages[2].content[0].text.startswith("Tool result: 5555.")
    distinct = list(dict.fromkeys(events))
    assert distinct == [
        ("start", 0),
        ("completed", 0),
        ("end", 0),
        ("start", 1),
        ("first token", 1),
        ("fragment", 1),
        ("completed", 1),
        ("end", 1),
    ]
    requests = predict_requests(lmstudio_server)
    assert [offered_tools(r) for r in requests] == [["add"], ["add"]]
    assert [m["role"] for m in requests[1]["history"]["messages"]] == ["user", "assistant", "tool"]


async def test_the_callers_chat_is_left_alone_unless_recorded(llm: AsyncLLM) -> None:
    chat = Chat("You compute.")
    chat.add_user_message('add {"a": 1, "b": 2}')
    await llm.act(chat, [add])
    assert len(chat) == 2
    await llm.act(chat, [add], on_message=chat.append)
    assert [m.content[0].content for m in chat.messages if isinstance(m, ToolMessage)] == ["3"]
    assert len(chat) == 5


async def test_async_tools_run_concurrently_and_results_keep_call_order(llm: AsyncLLM) -> None:
    both_running = anyio.Event()
    running: list[str] = []

    async def slow(name: str) -> str:
        """Wait until the other call is running too."""
        running.append(name)
        if len(running) == 2:
            both_running.set()
        with anyio.fail_after(SAFETY):
            await both_running.wait()
        return name.upper()

    messages: list[Any] = []
    prompt = 'slow {"name": "first"} then slow {"name": "second"}'
    await llm.act(prompt, [slow], max_parallel_tool_calls=2, on_message=messages.append)
    assert [part.content for part in messages[1].content] == ['"FIRST"', '"SECOND"']


async def test_one_tool_at_a_time_by_default(llm: AsyncLLM) -> None:
    active = peak = 0

    async def count(n: int) -> int:
        """Count."""
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active -= 1
        return n

    prompt = " ".join(f'count {{"n": {n}}}' for n in range(4))
    messages: list[Any] = []
    await llm.act(prompt, [count], on_message=messages.append)
    assert peak == 1
    assert [part.content for part in messages[1].content] == ["0", "1", "2", "3"]


async def test_a_tool_error_goes_back_to_the_model(llm: AsyncLLM) -> None:
    def explode(reason: str) -> None:
        """Fail."""
        raise RuntimeError(reason)

    messages: list[Any] = []
    result = await llm.act('explode {"reason": "disk full"}', [explode], on_message=messages.append)
    assert result.rounds == 2
    content = messages[1].content[0].content
    assert json.loads(content) == "Unhandled Python exception: RuntimeError('disk full')"
    assert "disk full" in messages[2].content[0].text


async def test_invalid_requests_go_through_the_handler(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    seen: list[tuple[str, ToolCallRequest | None]] = []

    def handler(error: LMStudioPredictionError, request: ToolCallRequest | None) -> str | None:
        seen.append((str(error), request))
        return "Please pass integers." if "parse arguments" in str(error) else None

    messages: list[Any] = []
    await llm.act(
        'add {"a": "one", "b": 2}',
        [add],
        on_message=messages.append,
        handle_invalid_tool_request=handler,
    )
    assert messages[1].content[0].content == "Please pass integers."
    assert "Expected `int`, got `str`" in seen[0][0]
    assert seen[0][1] is not None and seen[0][1].arguments == {"a": "one", "b": 2}

    lmstudio_server.set_faults(tool_calls="unknown-tool")
    messages.clear()
    await llm.act('add {"a": 1, "b": 2}', [add], on_message=messages.append)
    assert messages[1].content[0].content == "Cannot find tool with name no_such_tool."


async def test_a_malformed_call_stops_act_after_telling_the_handler(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(tool_calls="malformed")
    seen: list[ToolCallRequest | None] = []

    def handler(error: LMStudioPredictionError, request: ToolCallRequest | None) -> None:
        seen.append(request)

    with pytest.raises(LMStudioPredictionError, match="Failed to parse tool call"):
        await llm.act('add {"a": 1, "b": 2}', [add], handle_invalid_tool_request=handler)
    assert seen == [None]


async def test_a_raising_handler_stops_act(llm: AsyncLLM) -> None:
    def strict(error: LMStudioPredictionError, request: ToolCallRequest | None) -> None:
        raise error

    with pytest.raises(LMStudioPredictionError, match="parse arguments"):
        await llm.act('add {"a": [], "b": 2}', [add], handle_invalid_tool_request=strict)


async def test_round_limit_makes_the_last_round_answer_without_tools(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    completed: list[PredictionRoundResult] = []
    result = await llm.act(
        "add it up", [add], max_prediction_rounds=1, on_prediction_completed=completed.append
    )
    assert result.rounds == 1
    assert completed[0].tool_call_requests == []
    assert [offered_tools(r) for r in predict_requests(lmstudio_server)] == [None]
    lmstudio_server.clear_requests()
    result = await llm.act('add {"a": 1, "b": 1}', [add], max_prediction_rounds=2)
    assert result.rounds == 2
    assert [offered_tools(r) for r in predict_requests(lmstudio_server)] == [["add"], None]


async def test_a_slow_tool_times_out_and_the_model_is_told(llm: AsyncLLM) -> None:
    async def hang() -> None:
        """Never returns."""
        await anyio.sleep_forever()

    messages: list[Any] = []
    tools = [ToolFunctionDef(name="hang", description="", parameters={}, implementation=hang)]
    await llm.act("hang", tools, tool_timeout=0.05, on_message=messages.append)
    assert "did not finish within 0.05 seconds" in messages[1].content[0].content


async def test_typed_parameters_arrive_as_instances(llm: AsyncLLM) -> None:
    got: dict[str, Any] = {}

    def store(point: Point, box: Box, owner: Owner, tag: Tag, note: str = "none") -> str:
        """Store a record."""
        got.update(point=point, box=box, owner=owner, tag=tag, note=note)
        return "ok"

    arguments = {"point": {"x": 1, "y": 2}, "box": {"width": 3}, "owner": {"name": "Ada"}}
    arguments["tag"] = {"label": "t"}
    await llm.act(f"store {json.dumps(arguments)}", [store])
    assert got == {
        "point": Point(1, 2),
        "box": Box(3),
        "owner": Owner(name="Ada"),
        "tag": {"label": "t"},
        "note": "none",
    }


async def test_raw_json_schema_tools_are_checked_against_their_schema(llm: AsyncLLM) -> None:
    calls: list[dict[str, Any]] = []

    def lookup(**kwargs: Any) -> str:
        calls.append(kwargs)
        return "found"

    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a word up.",
            "parameters": {
                "type": "object",
                "properties": {"word": {"type": "string", "minLength": 2}},
                "required": ["word"],
                "additionalProperties": False,
            },
        },
        "implementation": lookup,
    }
    messages: list[Any] = []
    await llm.act('lookup {"word": "tea"}', [tool], on_message=messages.append)
    assert calls == [{"word": "tea"}] and messages[1].content[0].content == '"found"'
    messages.clear()
    await llm.act('lookup {"word": "t", "x": 1}', [tool], on_message=messages.append)
    content = messages[1].content[0].content
    assert "shorter than 2" in content and "unexpected property 'x'" in content


@pytest.mark.parametrize(
    ("tools", "kwargs", "message"),
    [
        ([], {}, "at least one tool"),
        ([add, add], {}, "Two tools are named 'add'"),
        ([42], {}, "must be a function"),
        ([add], {"max_prediction_rounds": 0}, "max_prediction_rounds"),
        ([add], {"max_parallel_tool_calls": 0}, "max_parallel_tool_calls"),
        ([add], {"tool_timeout": -1}, "tool_timeout"),
        ([{"name": "x", "parameters": {"a": {"default": 1}}}], {}, "needs a 'type' key"),
    ],
)
async def test_bad_arguments_fail_before_anything_is_sent(
    llm: AsyncLLM, lmstudio_server: ServerProcess, tools: Any, kwargs: Any, message: str
) -> None:
    with pytest.raises(LMStudioValueError, match=message):
        await llm.act("add", tools, **kwargs)
    assert predict_requests(lmstudio_server) == []


async def test_cancelling_act_mid_prediction_cancels_it_on_the_server(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow_llm
    first_token = anyio.Event()

    async def run() -> None:
        await llm.act("Tell me a long story", [add], on_first_token=lambda i: first_token.set())

    task = asyncio.ensure_future(run())
    with anyio.fail_after(SAFETY):
        await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(5):
        await asyncio.sleep(0.05)
    assert cancels_sent(server) == 1
    assert llm._client._connections["llm"].open_channels == 0
    # Nothing is left running on the server: the model answers the next request at once.
    result = await llm.respond("Next", config={"maxTokens": 2})
    assert result.stats.stop_reason == "maxPredictedTokensReached"


async def test_cancelling_act_mid_tools_cancels_every_tool_task(llm: AsyncLLM) -> None:
    started = anyio.Event()
    cancelled: list[str] = []

    async def wait(name: str) -> None:
        """Wait forever."""
        try:
            if name == "b":
                started.set()
            await anyio.sleep_forever()
        except BaseException:
            cancelled.append(name)
            raise

    tasks_before = len(asyncio.all_tasks())
    task = asyncio.ensure_future(
        llm.act('wait {"name": "a"} wait {"name": "b"}', [wait], max_parallel_tool_calls=None)
    )
    with anyio.fail_after(SAFETY):
        await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == ["a", "b"]
    assert len(asyncio.all_tasks()) == tasks_before
