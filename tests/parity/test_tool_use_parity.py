"""Wire parity of tool use with the official client (lmstudio 1.5.0): ``act()`` sends the same
requests, round by round (same method as the other parity tests)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pytest

from lmstudio_async.testing import ServerProcess

from .recording import Case, normalise, record_official, record_ours

LLAMA = (("llm", "llama-3.2-1b-instruct"),)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def greet(name: str, polite: bool = True, style: Literal["short", "long"] = "short") -> str:
    """Greet someone."""
    return f"Hello {name}" if polite else name


@dataclasses.dataclass
class Point:
    x: float
    y: float


def norm(point: Point, scale: float = 1.0) -> float:
    """The length of a vector."""
    return float(scale * (point.x**2 + point.y**2) ** 0.5)


def explode(reason: str) -> None:
    """Always fails."""
    raise RuntimeError(reason)


PROMPT = 'Use add {"a": 2, "b": 40} and greet {"name": "Ada", "style": "long"}'
CASES = [
    Case(
        "act over two rounds with two tools",
        lambda c, h: h.act(PROMPT, [add, greet]),
        lambda c, h: h.act(PROMPT, [add, greet]),
        LLAMA,
        "llm",
    ),
    Case(
        "act with config and a round limit",  # the tools are not offered in the last round
        lambda c, h: h.act("add please", [add], max_prediction_rounds=2, config={"maxTokens": 9}),
        lambda c, h: h.act("add please", [add], max_prediction_rounds=2, config={"maxTokens": 9}),
        LLAMA,
        "llm",
    ),
    Case(
        "act with a failing tool",
        lambda c, h: h.act('explode {"reason": "boom"}', [explode]),
        lambda c, h: h.act('explode {"reason": "boom"}', [explode]),
        LLAMA,
        "llm",
    ),
    Case(
        "act with arguments that do not fit",
        lambda c, h: h.act('add {"a": "two", "b": 2}', [add]),
        lambda c, h: h.act('add {"a": "two", "b": 2}', [add]),
        LLAMA,
        "llm",
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_act_sends_what_the_official_client_sends(
    lmstudio_server: ServerProcess, case: Case
) -> None:
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)
    creates = [m for m in ours if m.get("type") == "channelCreate"]
    assert len(creates) == 2
    assert _by_call_id(normalise(ours, references)) == _by_call_id(normalise(official, {}))


def _by_call_id(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool results sorted by call id: the official blocking act() records them in the order
    the tools finished (its thread pool), this SDK (like the official async one) in call order."""
    for message in messages:
        history = message.get("creationParameter", {}).get("history", {})
        for entry in history.get("messages", []):
            if entry["role"] == "tool":
                entry["content"].sort(key=lambda part: part.get("toolCallId", ""))
    return messages


@pytest.mark.conformance
def test_dataclass_parameters_get_their_definitions_and_instances(
    lmstudio_server: ServerProcess,
) -> None:
    """Where the official client differs on purpose: it leaves a dataclass parameter's ``$ref``
    dangling (no ``$defs``) and passes the tool a dict; this SDK sends the definition and
    passes a ``Point``."""
    case = Case(
        "dataclass parameter",
        lambda c, h: h.act('norm {"point": {"x": 3, "y": 4}}', [norm]),
        lambda c, h: h.act('norm {"point": {"x": 3, "y": 4}}', [norm]),
        LLAMA,
        "llm",
    )
    ours, _ = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)

    def tool_and_result(messages: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
        parameter = messages[-1]["creationParameter"]
        fields = parameter["predictionConfigStack"]["layers"][0]["config"]["fields"]
        tool = next(f["value"]["tools"][0] for f in fields if f["key"] == "llm.prediction.tools")
        return tool["function"]["parameters"], parameter["history"]["messages"][-1]["content"][0]

    our_schema, our_result = tool_and_result(ours)
    official_schema, official_result = tool_and_result(official)
    assert our_schema["$defs"]["Point"]["required"] == ["x", "y"]
    assert "$defs" not in official_schema
    assert our_result["content"] == "5.0"
    assert "AttributeError" in official_result["content"]
