"""Wire parity with the official client (lmstudio 1.5.0) for predictions and embeddings.

Same method as the model-management parity tests (see that module's docstring).
"""

from __future__ import annotations

from typing import Any

import pytest

from lmstudio_async import AsyncLLM, Chat
from lmstudio_async.testing import ServerProcess

from .recording import Case, normalise, record_official, record_ours

LLAMA = (("llm", "llama-3.2-1b-instruct"),)
NOMIC = (("embedding", "text-embedding-nomic-embed-text-v1.5"),)
CONFIG = {"temperature": 0.3, "maxTokens": 20, "stopStrings": ["\n\n"], "topPSampling": 0.9}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def chat() -> Chat:
    history = Chat("You are terse.")
    history.add_user_message("Hello")
    return history


async def drain(stream: Any) -> None:
    async for _ in stream:
        pass


def drain_sync(stream: Any) -> None:
    for _ in stream:
        pass


async def respond_stream(llm: AsyncLLM) -> None:
    await drain(llm.respond_stream("Stream it", config=CONFIG))


CASES = [
    Case(
        "respond to a string",
        lambda c, h: h.respond("Hi"),
        lambda c, h: h.respond("Hi"),
        LLAMA,
        "llm",
    ),
    Case(
        "respond to a chat with config",
        lambda c, h: h.respond(chat(), config=CONFIG),
        # The official client takes its own Chat type; the wire history is the same.
        lambda c, h: h.respond(chat().to_dict(), config=CONFIG),
        LLAMA,
        "llm",
    ),
    Case(
        "respond with a JSON schema",
        lambda c, h: h.respond("JSON please", response_format=SCHEMA),
        lambda c, h: h.respond("JSON please", response_format=SCHEMA),
        LLAMA,
        "llm",
    ),
    Case(
        "respond_stream",
        lambda c, h: respond_stream(h),
        lambda c, h: drain_sync(h.respond_stream("Stream it", config=CONFIG)),
        LLAMA,
        "llm",
    ),
    Case(
        "complete",
        lambda c, h: h.complete("Once upon a time", config={"maxTokens": 8}),
        lambda c, h: h.complete("Once upon a time", config={"maxTokens": 8}),
        LLAMA,
        "llm",
    ),
    Case(
        "apply_prompt_template",
        lambda c, h: h.apply_prompt_template(chat()),
        lambda c, h: h.apply_prompt_template(chat().to_dict()),
        LLAMA,
        "llm",
    ),
    Case(
        "embed one", lambda c, h: h.embed("text"), lambda c, h: h.embed("text"), NOMIC, "embedding"
    ),
]


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_we_send_what_the_official_client_sends(lmstudio_server: ServerProcess, case: Case) -> None:
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)
    assert ours, "the operation sent nothing"
    assert normalise(ours, references) == normalise(official, {})


@pytest.mark.conformance
def test_embedding_several_texts_sends_one_call_per_text(lmstudio_server: ServerProcess) -> None:
    texts = ["a", "b", "c"]
    case = Case(
        "embed many", lambda c, h: h.embed(texts), lambda c, h: h.embed(texts), NOMIC, "embedding"
    )
    ours, references = record_ours(lmstudio_server, case)
    official = record_official(lmstudio_server, case)

    def by_text(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(messages, key=lambda m: m["parameter"]["inputString"])

    assert by_text(normalise(ours, references)) == by_text(normalise(official, {}))
