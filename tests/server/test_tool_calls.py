"""The scripted engine's tool calls, as the official lmstudio 1.5.0 client's act() sees them."""

from __future__ import annotations

from typing import Any

import anyio
import lmstudio
import pytest

from lmstudio_async.server import LocalServer
from lmstudio_async.server.faults import FaultPlan, FaultSpecError

pytestmark = [pytest.mark.conformance, pytest.mark.anyio]

MODEL = "llama-3.2-1b-instruct"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def _act(server: LocalServer, prompt: str, **kwargs: Any) -> tuple[Any, list[Any]]:
    with lmstudio.Client(server.api_host) as client:
        messages: list[Any] = []
        result = client.llm.model(MODEL).act(
            prompt, [add, multiply], on_message=messages.append, **kwargs
        )
        return result, [message.to_dict() for message in messages]


async def test_official_act_runs_tool_rounds_then_answers(server: LocalServer) -> None:
    prompt = 'Compute add {"a": 1234, "b": 4321} and multiply {"a": 6, "b": 7}.'
    result, messages = await anyio.to_thread.run_sync(lambda: _act(server, prompt))
    assert result.rounds == 2
    requests, results, answer = messages
    calls = [part["toolCallRequest"] for part in requests["content"][1:]]
    assert [(c["name"], c["arguments"]) for c in calls] == [
        ("add", {"a": 1234, "b": 4321}),
        ("multiply", {"a": 6, "b": 7}),
    ]
    # The official sync act() records results in completion order, matched by call id.
    by_id = {part["toolCallId"]: part["content"] for part in results["content"]}
    assert [by_id[c["id"]] for c in calls] == ["5555", "42"]
    assert answer["content"][0]["text"].startswith("Tool result: ")
    assert {"Tool result: 5555.", "Tool result: 42."} <= set(
        answer["content"][0]["text"].replace(". ", ".|").split("|")
    )


async def test_official_act_stops_at_its_round_limit(server: LocalServer) -> None:
    # The final round offers no tools, so the scripted model answers in prose.
    result, messages = await anyio.to_thread.run_sync(
        lambda: _act(server, "add please", max_prediction_rounds=1)
    )
    assert result.rounds == 1
    assert [m["role"] for m in messages] == ["assistant"]
    assert "toolCallRequest" not in str(messages)


async def test_unknown_tool_fault_reaches_the_client_as_an_unknown_tool(
    server: LocalServer,
) -> None:
    server.state.faults.tool_calls = "unknown-tool"
    result, messages = await anyio.to_thread.run_sync(lambda: _act(server, "add 2 and 3"))
    assert result.rounds == 2
    assert messages[0]["content"][1]["toolCallRequest"]["name"] == "no_such_tool"
    assert "no_such_tool" in messages[1]["content"][0]["content"]


async def test_malformed_tool_call_fault_fails_the_official_prediction(
    server: LocalServer,
) -> None:
    server.state.faults.tool_calls = "malformed"
    with pytest.raises(lmstudio.LMStudioPredictionError, match="parse tool call"):
        await anyio.to_thread.run_sync(lambda: _act(server, "add 2 and 3"))


def test_tool_call_fault_specs_are_parsed() -> None:
    assert FaultPlan.from_specs(["tool-calls=unknown-tool"]).tool_calls == "unknown-tool"
    with pytest.raises(FaultSpecError, match="malformed"):
        FaultPlan.from_specs(["tool-calls=often"])


async def test_server_default_tool_choice_makes_unchosen_offers_call_a_tool() -> None:
    async with LocalServer(port=0, tool_choice="required") as server:
        result, messages = await anyio.to_thread.run_sync(
            lambda: _act(server, "Hello there", max_prediction_rounds=2)
        )
    assert result.rounds == 2
    assert messages[0]["content"][1]["toolCallRequest"]["name"] == "add"
