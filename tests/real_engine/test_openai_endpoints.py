"""The real model (bundled SmolLM2, llama-cpp engine) through the HTTP APIs, with ``openai``.

The same model answers both ways: a greedy reply over ``/v1/chat/completions``
is the reply the websocket API gives for the same chat and settings.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator

import pytest

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

import aiohttp
import openai
from openai.types.chat import (
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from lmstudio_async import AsyncClient
from lmstudio_async.testing.process import ServerProcess

from .bundled import bundled_gguf_or_skip
from .conftest import EMBEDDING_KEY, GREEDY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio

QUESTION = "Name three colours of the rainbow."
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]


@pytest.fixture
async def oai(llama_server: ServerProcess) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=f"http://{llama_server.api_host}/v1", api_key="lm-studio", max_retries=0
    )
    yield client
    await client.close()


async def test_models_lists_the_bundled_models(oai: openai.AsyncOpenAI) -> None:
    ids = [model.id for model in (await oai.models.list()).data]
    assert LLM_KEY in ids and EMBEDDING_KEY in ids


async def test_a_greedy_reply_is_the_websocket_apis_reply(
    llama_server: ServerProcess, oai: openai.AsyncOpenAI
) -> None:
    reply = await oai.chat.completions.create(
        model=LLM_KEY, messages=MESSAGES, temperature=0, seed=GREEDY["seed"], max_tokens=24
    )
    async with AsyncClient(llama_server.api_host) as client:
        llm = await client.llm.model(LLM_KEY)
        result = await llm.respond(QUESTION, config={**GREEDY, "maxTokens": 24})
    assert reply.choices[0].message.content == result.content
    assert reply.usage is not None
    assert reply.usage.completion_tokens == result.stats.predicted_tokens_count
    assert reply.usage.prompt_tokens == result.stats.prompt_tokens_count


async def test_streamed_greedy_reply_is_the_same_and_stops_at_max_tokens(
    oai: openai.AsyncOpenAI,
) -> None:
    seed = GREEDY["seed"]
    # llama.cpp reuses the cached prompt prefix on a repeat, which can shift the logits a
    # little: warm the cache first, so that the two compared replies see the same state.
    for _ in range(2):
        whole = await oai.chat.completions.create(
            model=LLM_KEY, messages=MESSAGES, temperature=0, seed=seed, max_tokens=16
        )
    stream = await oai.chat.completions.create(
        model=LLM_KEY,
        messages=MESSAGES,
        temperature=0,
        seed=seed,
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 16


async def test_json_schema_output_from_the_grammar(oai: openai.AsyncOpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"colour": {"type": "string"}, "count": {"type": "integer"}},
        "required": ["colour", "count"],
    }
    reply = await oai.chat.completions.create(
        model=LLM_KEY,
        messages=MESSAGES,
        temperature=0,
        max_tokens=60,
        response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema}},
    )
    document = json.loads(reply.choices[0].message.content or "")
    assert isinstance(document["colour"], str) and isinstance(document["count"], int)


async def test_completion_of_a_raw_prompt(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.completions.create(
        model=LLM_KEY, prompt="The capital of France is", max_tokens=8, temperature=0
    )
    assert reply.choices[0].text
    assert reply.usage is not None and reply.usage.completion_tokens <= 8


async def test_embeddings_are_unit_vectors_that_tell_texts_apart(oai: openai.AsyncOpenAI) -> None:
    result = await oai.embeddings.create(
        model=EMBEDDING_KEY, input=["a cat sat on the mat", "a cat sat on the mat", "stocks fell"]
    )
    same, again, other = (item.embedding for item in result.data)
    assert math.isclose(math.fsum(x * x for x in same), 1.0, rel_tol=1e-3)
    assert all(math.isclose(x, y, abs_tol=1e-5) for x, y in zip(same, again, strict=True))
    assert math.fsum(x * y for x, y in zip(same, other, strict=True)) < 0.999


async def test_responses_with_a_follow_up(oai: openai.AsyncOpenAI) -> None:
    first = await oai.responses.create(
        model=LLM_KEY, input="Say one word.", max_output_tokens=8, temperature=0
    )
    assert first.output_text and first.usage is not None
    second = await oai.responses.create(
        model=LLM_KEY,
        input="Say another.",
        previous_response_id=first.id,
        max_output_tokens=8,
        temperature=0,
    )
    assert second.usage is not None and second.usage.input_tokens > first.usage.input_tokens
    # Compared with a repeat, not with the first: see the prompt-cache note above.
    repeat = await oai.responses.create(
        model=LLM_KEY, input="Say one word.", max_output_tokens=8, temperature=0
    )
    async with oai.responses.stream(
        model=LLM_KEY, input="Say one word.", max_output_tokens=8, temperature=0
    ) as stream:
        async for _event in stream:
            pass
        streamed = await stream.get_final_response()
    assert streamed.output_text == repeat.output_text


async def test_native_v0_chat_with_real_stats(llama_server: ServerProcess) -> None:
    body = {"model": LLM_KEY, "messages": MESSAGES, "max_tokens": 8, "temperature": 0}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://{llama_server.api_host}/api/v0/chat/completions", json=body) as r,
    ):
        assert r.status == 200
        reply = await r.json()
    assert reply["choices"][0]["message"]["content"]
    assert reply["stats"]["stop_reason"] == "maxPredictedTokensReached"
    assert reply["stats"]["tokens_per_second"] > 0
    assert reply["model_info"]["format"] == "gguf"
    assert reply["runtime"]["name"].endswith("llama-cpp")


async def test_native_v1_chat_stream(llama_server: ServerProcess) -> None:
    body = {"model": LLM_KEY, "input": QUESTION, "max_output_tokens": 8, "stream": True}
    names: list[str] = []
    deltas: list[str] = []
    result: dict[str, object] = {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://{llama_server.api_host}/api/v1/chat", json=body) as response,
    ):
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                names.append(event["type"])
                if event["type"] == "message.delta":
                    deltas.append(event["content"])
                if event["type"] == "chat.end":
                    result = event["result"]
    assert names[0] == "chat.start" and names[-1] == "chat.end"
    assert "prompt_processing.end" in names and "message.end" in names
    assert result["output"] == [{"type": "message", "content": "".join(deltas)}]


WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_QUESTION: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What is the weather in Paris?"}
]


async def test_a_required_tool_call_streamed_and_not(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(
        model=LLM_KEY,
        messages=WEATHER_QUESTION,
        tools=[WEATHER],
        tool_choice="required",
        temperature=0,
        max_tokens=60,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    stream = await oai.chat.completions.create(
        model=LLM_KEY,
        messages=WEATHER_QUESTION,
        tools=[WEATHER],
        tool_choice="required",
        temperature=0,
        max_tokens=60,
        stream=True,
    )
    names, arguments, finish = [], "", None
    async for chunk in stream:
        for delta in chunk.choices[0].delta.tool_calls or []:
            assert delta.index == 0
            if delta.function and delta.function.name:
                names.append(delta.function.name)
            if delta.function and delta.function.arguments:
                arguments += delta.function.arguments
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"] and finish == "tool_calls"
    assert json.loads(arguments) == json.loads(call.function.arguments)
