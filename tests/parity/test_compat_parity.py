"""Wire parity with the official client (lmstudio 1.5.0) for the calls written the official's way:
its parameter names (``input=``, ``model_specifier=``, ``model_identifier=``, ``opts=``),
``preset=``, and its response_format forms.

A preset the server does not define is refused with ``LMStudioPresetNotFoundError`` by both
clients; the request each sent is compared all the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import lmstudio
import pytest

import lmstudio_async
from lmstudio_async.testing import ServerProcess

from .recording import Case, normalise, record_official, record_ours

LLAMA = (("llm", "llama-3.2-1b-instruct"),)
NOMIC = (("embedding", "text-embedding-nomic-embed-text-v1.5"),)
GRAMMAR = 'root ::= "yes" | "no"'
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


class Answer(lmstudio_async.BaseModel):
    answer: str


def official_answer() -> type:
    class Answer(lmstudio.BaseModel):  # type: ignore[misc]  # the same class, the official's way
        answer: str

    return Answer


def ours_tolerating_presets(
    call: Callable[[Any], Awaitable[object]],
) -> Callable[[Any, Any], Awaitable[object]]:
    async def run(client: Any, handle: Any) -> object:
        try:
            return await call(handle)
        except lmstudio_async.LMStudioPresetNotFoundError:
            return None

    return run


def official_tolerating_presets(call: Callable[[Any], object]) -> Callable[[Any, Any], object]:
    def run(client: Any, handle: Any) -> object:
        try:
            return call(handle)
        except lmstudio.LMStudioPresetNotFoundError:
            return None

    return run


CASES = [
    Case(
        "respond with preset",
        ours_tolerating_presets(lambda h: h.respond("Hi", preset="terse")),
        official_tolerating_presets(lambda h: h.respond("Hi", preset="terse")),
        LLAMA,
        "llm",
    ),
    Case(
        "complete with preset and config",
        ours_tolerating_presets(
            lambda h: h.complete("Once", preset="terse", config={"maxTokens": 4})
        ),
        official_tolerating_presets(
            lambda h: h.complete("Once", preset="terse", config={"maxTokens": 4})
        ),
        LLAMA,
        "llm",
    ),
    Case(
        "respond with a BaseModel response_format",
        lambda c, h: h.respond("JSON please", response_format=Answer),
        lambda c, h: h.respond("JSON please", response_format=official_answer()),
        LLAMA,
        "llm",
    ),
    Case(
        "respond with a gbnf setting",
        lambda c, h: h.respond("yes?", response_format={"type": "gbnf", "gbnfGrammar": GRAMMAR}),
        lambda c, h: h.respond("yes?", response_format={"type": "gbnf", "gbnfGrammar": GRAMMAR}),
        LLAMA,
        "llm",
    ),
    Case(
        "respond with a structured-setting object",
        lambda c, h: h.respond(
            "JSON please",
            response_format=lmstudio_async.StructuredSetting(type="json", json_schema=SCHEMA),
        ),
        lambda c, h: h.respond(
            "JSON please",
            response_format=lmstudio._sdk_models.LlmStructuredPredictionSetting(
                type="json", json_schema=SCHEMA
            ),
        ),
        LLAMA,
        "llm",
    ),
    Case(
        "respond to a history dict with string content",
        lambda c, h: h.respond({"messages": [{"role": "user", "content": "Hi"}]}),
        lambda c, h: h.respond({"messages": [{"role": "user", "content": "Hi"}]}),
        LLAMA,
        "llm",
    ),
    Case(
        "apply_prompt_template with opts",
        lambda c, h: h.apply_prompt_template("Hi", opts={"omitBosToken": True}),
        lambda c, h: h.apply_prompt_template("Hi", opts={"omitBosToken": True}),
        LLAMA,
        "llm",
    ),
    Case(
        "tokenize(input=)",
        lambda c, h: h.tokenize(input="Hello there"),
        lambda c, h: h.tokenize(input="Hello there"),
        LLAMA,
        "llm",
    ),
    Case(
        "count_tokens(input=)",
        lambda c, h: h.count_tokens(input="Hello there"),
        lambda c, h: h.count_tokens(input="Hello there"),
        LLAMA,
        "llm",
    ),
    Case(
        "embed(input=)",
        lambda c, h: h.embed(input="text"),
        lambda c, h: h.embed(input="text"),
        NOMIC,
        "embedding",
    ),
    Case(
        "get_model_info(model_specifier=)",
        lambda c, _: c.llm.get_model_info(model_specifier="llama-3.2-1b-instruct"),
        lambda c, _: c.llm.get_model_info(model_specifier="llama-3.2-1b-instruct"),
        LLAMA,
    ),
    Case(
        "unload(model_identifier=)",
        lambda c, _: c.llm.unload(model_identifier="llama-3.2-1b-instruct"),
        lambda c, _: c.llm.unload(model_identifier="llama-3.2-1b-instruct"),
        LLAMA,
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_calls_written_the_official_way_send_what_it_sends(
    lmstudio_server: ServerProcess, case: Case
) -> None:
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)
    assert ours, "the operation sent nothing"
    assert normalise(ours, references) == normalise(official, {})


@pytest.mark.conformance
def test_preset_travels_as_the_fuzzy_preset_identifier(lmstudio_server: ServerProcess) -> None:
    ours, _ = record_ours(lmstudio_server, CASES[0])
    creation = next(m for m in ours if m.get("type") == "channelCreate")
    assert creation["creationParameter"]["fuzzyPresetIdentifier"] == "terse"
