"""Predictions against the local server: streams, callbacks, cancellation, structured output."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pydantic
import pytest

from lmstudio_async import (
    AsyncClient,
    AsyncLLM,
    AsyncPredictionStream,
    Chat,
    LlmPredictionConfig,
    LMStudioValueError,
    PredictionResult,
)
from lmstudio_async.protocol import AssistantMessage
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
NOMIC = "text-embedding-nomic-embed-text-v1.5"


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)


@pytest.fixture
async def slow_llm(lmstudio_server_factory: Any) -> AsyncIterator[tuple[AsyncLLM, ServerProcess]]:
    """An LLM that replies 200 tokens at 10 ms each, so there is time to interrupt it."""
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "200:200")
    async with AsyncClient(server.api_host) as client:
        yield await client.llm.model(LLAMA), server


def cancels_sent(server: ServerProcess) -> int:
    return sum(
        1
        for r in server.requests()
        if r["message"].get("type") == "channelSend" and r["message"]["message"]["type"] == "cancel"
    )


async def settle(llm: AsyncLLM) -> None:
    """Let fire-and-forget cancels and generator finalisers run."""
    for _ in range(5):
        await asyncio.sleep(0.05)
    assert llm._client._connections["llm"].open_channels == 0


async def test_respond_returns_the_reply_with_full_stats(llm: AsyncLLM) -> None:
    result = await llm.respond("What is the meaning of life?", config={"temperature": 0.2})
    assert isinstance(result, PredictionResult)
    assert result.content and str(result) == result.content
    stats = result.stats
    assert stats.stop_reason == "eosFound"
    assert stats.predicted_tokens_count and stats.prompt_tokens_count
    assert stats.total_tokens_count == stats.prompt_tokens_count + stats.predicted_tokens_count
    assert stats.time_to_first_token_sec is not None and stats.tokens_per_second is not None
    assert result.model_info.identifier == llm.identifier
    assert result.load_config.context_length == result.model_info.context_length
    assert result.prediction_config.temperature == 0.2
    assert result.parsed == result.content  # nothing structured was asked for


async def test_replies_depend_on_the_history_not_on_chance(llm: AsyncLLM) -> None:
    chat = Chat("You are a resident AI philosopher.")
    chat.add_user_message("What is the meaning of life?")
    first = await llm.respond(chat, config={"seed": 1})
    assert (await llm.respond(chat, config={"seed": 1})).content == first.content
    assert (await llm.respond(chat.to_dict(), config={"seed": 1})).content == first.content
    assert (
        await llm.respond("Something else entirely", config={"seed": 1})
    ).content != first.content


async def test_streamed_fragments_add_up_to_the_result(llm: AsyncLLM) -> None:
    stream = llm.respond_stream("Stream this, please")
    assert isinstance(stream, AsyncPredictionStream)
    fragments = [fragment async for fragment in stream]
    result = stream.result()
    assert "".join(f.content for f in fragments) == result.content
    assert sum(f.tokens_count for f in fragments) == result.stats.predicted_tokens_count
    assert all(f.reasoning_type == "none" for f in fragments)
    assert stream.stats == result.stats and stream.model_info == result.model_info


async def test_every_way_of_consuming_a_stream_gives_the_same_result(llm: AsyncLLM) -> None:
    prompt = "Same question, four ways"
    direct = await llm.respond_stream(prompt).wait_for_result()
    awaited = await llm.respond_stream(prompt)  # as with the official SDK
    async with llm.respond_stream(prompt) as managed:
        in_context = await managed.wait_for_result()
    assert direct.content == (await awaited.wait_for_result()).content == in_context.content
    assert (await llm.respond(prompt)).content == direct.content


async def test_max_tokens_caps_the_reply(llm: AsyncLLM) -> None:
    result = await llm.respond("A long answer, please", config=LlmPredictionConfig(max_tokens=5))
    assert result.stats.predicted_tokens_count == 5
    assert result.stats.stop_reason == "maxPredictedTokensReached"


async def test_a_stop_string_ends_the_reply_before_it(llm: AsyncLLM) -> None:
    prompt = "Tell me a story"
    full = (await llm.respond(prompt)).content
    words = full.split()
    stop = next(w for w in words[len(words) // 2 :] if full.index(w) > 0)
    result = await llm.respond(prompt, config={"stopStrings": [stop]})
    assert result.content == full[: full.index(stop)]
    assert result.stats.stop_reason == "stopStringFound"


async def test_cancel_stops_generation_and_keeps_the_text_so_far(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, _ = slow_llm
    stream = llm.respond_stream("A very long story")
    seen = []
    async for fragment in stream:
        seen.append(fragment.content)
        if len(seen) == 5:
            await stream.cancel()
    result = stream.result()
    assert result.stats.stop_reason == "userStopped"
    assert result.content == "".join(seen)
    assert (result.stats.predicted_tokens_count or 0) < 200


async def test_breaking_out_of_a_stream_cancels_it_on_the_server(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow_llm
    async for _ in llm.respond_stream("Break early"):
        break
    await settle(llm)
    assert cancels_sent(server) == 1
    # The model is free again: a new prediction completes normally.
    assert (await llm.respond("Next", config={"maxTokens": 3})).stats.stop_reason == (
        "maxPredictedTokensReached"
    )


async def test_cancelling_the_task_cancels_the_prediction(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow_llm

    async def consume() -> None:
        async for _ in llm.respond_stream("Never finished"):
            pass

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await settle(llm)
    assert cancels_sent(server) == 1


async def test_an_exception_in_the_loop_or_aclose_cancels_the_prediction(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow_llm
    with pytest.raises(ZeroDivisionError):
        async for _ in llm.respond_stream("Boom"):
            1 / 0  # noqa: B018
    stream = await llm.respond_stream("Closed by hand")
    await stream.aclose()
    async with llm.respond_stream("Left by async with") as managed:
        await anext(aiter(managed))
    await settle(llm)
    assert cancels_sent(server) == 3


async def test_callbacks_fire_in_event_order(llm: AsyncLLM) -> None:
    events: list[str] = []
    chat = Chat()
    chat.add_user_message("Hello")

    async def on_fragment(fragment: Any) -> None:
        await asyncio.sleep(0)
        events.append("fragment")

    def on_message(message: AssistantMessage) -> None:
        events.append("message")
        chat.append(message)

    result = await llm.respond(
        chat,
        on_prompt_processing_progress=lambda p: events.append(f"progress {p}"),
        on_first_token=lambda: events.append("first token"),
        on_prediction_fragment=on_fragment,
        on_message=on_message,
    )
    assert events[0] == "progress 0.0" and events[1] == "progress 1.0"
    assert events[2] == "first token" and events[-1] == "message"
    assert events.count("first token") == 1 and events.count("message") == 1
    assert set(events[3:-1]) == {"fragment"}
    assert chat.summary().endswith(f"assistant: {result.content}")


async def test_on_message_equal_chat_append_records_a_multi_turn_chat(llm: AsyncLLM) -> None:
    chat = Chat("You are a task focused AI assistant")
    for question in ("First question", "Second question"):
        chat.add_user_message(question)
        stream = llm.respond_stream(chat, on_message=chat.append)
        async for _ in stream:
            pass
    assert [type(m).__name__ for m in chat.messages] == [
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "UserMessage",
        "AssistantMessage",
    ]


async def test_a_failing_callback_cancels_and_surfaces(
    slow_llm: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow_llm

    def fail(fragment: Any) -> None:
        raise KeyError("callback broke")

    with pytest.raises(KeyError, match="callback broke"):
        await llm.respond("Hi", on_prediction_fragment=fail)
    await settle(llm)
    assert cancels_sent(server) == 1


async def test_complete_sends_the_prompt_raw(llm: AsyncLLM, lmstudio_server: ServerProcess) -> None:
    lmstudio_server.clear_requests()
    result = await llm.complete("Once upon a time", config={"maxTokens": 10})
    assert result.content
    assert 0 < (result.stats.predicted_tokens_count or 0) <= 10
    streamed = [
        f.content async for f in llm.complete_stream("Once upon a time", config={"maxTokens": 10})
    ]
    assert "".join(streamed) == result.content
    creates = [
        r["message"]
        for r in lmstudio_server.requests()
        if r["message"].get("endpoint") == "predict"
    ]
    layers = [
        layer["layerName"]
        for layer in creates[0]["creationParameter"]["predictionConfigStack"]["layers"]
    ]
    assert layers == ["apiOverride", "completeModeFormatting"]


async def test_apply_prompt_template_shows_what_the_model_sees(llm: AsyncLLM) -> None:
    chat = Chat("Be brief.")
    chat.add_user_message("Why is the sky blue?")
    formatted = await llm.apply_prompt_template(chat)
    assert "Be brief." in formatted and "Why is the sky blue?" in formatted


class Book(msgspec.Struct):
    title: str
    pages: int


class Movie(pydantic.BaseModel):
    name: str
    year: int
    liked: bool


BOOK_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "tags"],
}


async def test_structured_output_decodes_into_what_was_asked(llm: AsyncLLM) -> None:
    as_dict = await llm.respond("A book as JSON", response_format=BOOK_SCHEMA)
    assert isinstance(as_dict.parsed, dict) and isinstance(as_dict.parsed["title"], str)
    assert all(isinstance(tag, str) for tag in as_dict.parsed["tags"])
    as_struct = await llm.respond("A book", response_format=Book)
    assert isinstance(as_struct.parsed, Book) and isinstance(as_struct.parsed.pages, int)
    as_model = await llm.respond("A movie", response_format=Movie)
    assert isinstance(as_model.parsed, Movie) and as_model.structured
    via_config = await llm.respond(
        "A book", config={"structured": {"type": "json", "jsonSchema": BOOK_SCHEMA}}
    )
    assert isinstance(via_config.parsed, dict)


async def test_bad_prediction_arguments_fail_before_anything_is_sent(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.clear_requests()
    with pytest.raises(LMStudioValueError, match="Did you mean 'temperature'"):
        llm.respond_stream("x", config={"temprature": 0.5})
    with pytest.raises(LMStudioValueError, match="'maxTokens'"):
        await llm.respond("x", config={"maxTokens": "many"})
    with pytest.raises(LMStudioValueError, match="not both"):
        await llm.respond(
            "x", response_format=Book, config={"structured": {"type": "json", "jsonSchema": {}}}
        )
    with pytest.raises(LMStudioValueError, match=r"has no model_json_schema\(\)"):
        await llm.respond("x", response_format=int)
    with pytest.raises(LMStudioValueError, match="Expected a Chat"):
        await llm.respond(42)  # type: ignore[arg-type]
    assert lmstudio_server.requests() == []


async def test_two_hundred_concurrent_streams_each_get_their_own_fragments(llm: AsyncLLM) -> None:
    prompts = [f"Question number {i}: what do you know about {i * 7}?" for i in range(200)]

    async def collect(prompt: str) -> tuple[str, str]:
        stream = llm.respond_stream(prompt)
        text = "".join([f.content async for f in stream])
        return text, stream.result().content

    together = await asyncio.gather(*(collect(p) for p in prompts))
    alone = [(await llm.respond(p)).content for p in prompts]
    assert [streamed for streamed, _ in together] == alone
    assert [result for _, result in together] == alone
    assert len(set(alone)) > 150
    await settle(llm)


async def test_embeddings_are_unit_vectors_in_input_order(lmstudio_server: ServerProcess) -> None:
    async with AsyncClient(lmstudio_server.api_host) as client:
        model = await client.embedding.model(NOMIC)
        one = await model.embed("The quick brown fox")
        assert len(one) == 768
        assert math.isclose(math.fsum(x * x for x in one), 1.0, rel_tol=1e-6)
        texts = ["alpha", "beta", "The quick brown fox", "gamma"]
        many = await model.embed(texts)
        assert len(many) == 4 and many[2] == one
        assert many == [await model.embed(t) for t in texts]
        assert len({tuple(v) for v in many}) == 4
