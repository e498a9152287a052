"""Real tool calling on the llama-cpp engine with the bundled 135M model: the mechanics (a call
is generated under the grammar, parsed, answered, and the next round runs), not answer quality.

The server runs with ``--tool-choice required``, so a prediction that offers tools without
choosing must call one: the small model would otherwise rarely do so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

import lmstudio

from lmstudio_async import AsyncClient, PredictionRoundResult
from lmstudio_async.protocol import ToolCallRequestPart, ToolMessage
from lmstudio_async.server.engines.llama_cpp.tool_calling import tool_call_grammar
from lmstudio_async.server.engines.tools import tool_offer_from_config
from lmstudio_async.testing.process import ServerProcess

from .bundled import bundled_gguf_or_skip
from .conftest import GREEDY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

CITIES: list[str] = []


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    CITIES.append(city)
    return "sunny"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture(scope="module")
def tool_server() -> Iterator[ServerProcess]:
    with ServerProcess("--engine", "llama-cpp", "--tool-choice", "required") as server:
        yield server


def test_the_grammar_covers_every_offered_tool_and_its_schema() -> None:
    point = {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
    tools = [
        {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}},
        {
            "type": "function",
            "function": {
                "name": "norm",
                "parameters": {
                    "type": "object",
                    "properties": {"p": {"$ref": "#/$defs/Point"}},
                    "required": ["p"],
                    "$defs": {"Point": point},
                },
            },
        },
    ]
    offer = tool_offer_from_config({"type": "toolArray", "tools": tools})
    assert offer is not None
    # Compiles twice from the same offer (the converter must not alter the definitions).
    assert tool_call_grammar(offer) is not None
    assert tool_call_grammar(offer) is not None


async def test_act_runs_a_generated_tool_call_and_the_next_round(
    tool_server: ServerProcess,
) -> None:
    CITIES.clear()
    completed: list[PredictionRoundResult] = []
    messages: list[Any] = []
    async with AsyncClient(tool_server.api_host) as client:
        llm = await client.llm.model(LLM_KEY)
        result = await llm.act(
            "What's the weather in Paris?",
            [get_weather, add],
            max_prediction_rounds=2,
            config={**GREEDY, "maxTokens": 40},
            on_message=messages.append,
            on_prediction_completed=completed.append,
        )
    assert result.rounds == 2
    assert completed[0].stats.stop_reason == "toolCalls"
    [call] = [p for p in messages[0].content if isinstance(p, ToolCallRequestPart)]
    request = call.tool_call_request
    # The grammar admits only an offered tool, with arguments that fit its schema.
    if request.name == "get_weather":
        city = (request.arguments or {}).get("city")
        assert isinstance(city, str)
        assert [city] == CITIES
    else:
        assert request.name == "add"
        assert all(isinstance(v, int) for v in (request.arguments or {}).values())
    assert isinstance(messages[1], ToolMessage)
    assert messages[1].content[0].tool_call_id == request.id
    assert completed[1].tool_call_requests == []  # the last round offers no tools


def test_the_official_act_runs_rounds_on_the_llama_engine(tool_server: ServerProcess) -> None:
    CITIES.clear()
    with lmstudio.Client(tool_server.api_host) as client:
        llm = client.llm.model(LLM_KEY)
        messages: list[Any] = []
        result = llm.act(
            "What's the weather in Paris?",
            [get_weather],
            max_prediction_rounds=2,
            config={"temperature": 0, "maxTokens": 40},
            on_message=messages.append,
        )
    assert result.rounds == 2
    assert len(CITIES) == 1
    assert [m.role for m in messages] == ["assistant", "tool", "assistant"]
