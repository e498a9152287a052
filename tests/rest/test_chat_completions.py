"""``/v1/chat/completions`` driven by the real ``openai`` client (scripted engine)."""

from __future__ import annotations

import json

import anyio
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionMessageParam

from lmstudio_async import AsyncClient
from lmstudio_async.server import LocalServer

from .conftest import HELLO, LLM

pytestmark = pytest.mark.anyio


async def test_a_reply_with_openai_shape_and_usage(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=LLM, messages=HELLO)
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-") and len(reply.id) == len("chatcmpl-") + 21
    assert reply.model == LLM
    (choice,) = reply.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content
    usage = reply.usage
    assert usage is not None and usage.completion_tokens > 0 and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_streamed_reply_is_the_same_reply(oai: openai.AsyncOpenAI) -> None:
    whole = await oai.chat.completions.create(model=LLM, messages=HELLO, seed=3)
    stream = await oai.chat.completions.create(model=LLM, messages=HELLO, seed=3, stream=True)
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 2
    assert {chunk.id for chunk in chunks} == {chunks[0].id}
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    # No usage unless asked for.
    assert all(chunk.usage is None for chunk in chunks)


async def test_include_usage_adds_one_usage_chunk_before_done(oai: openai.AsyncOpenAI) -> None:
    stream = await oai.chat.completions.create(
        model=LLM, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    pieces = sum(1 for chunk in chunks if chunk.choices and chunk.choices[0].delta.content)
    assert last.usage.completion_tokens >= pieces > 0
    assert all(chunk.usage is None for chunk in chunks[:-1])


async def test_max_tokens_stops_with_length(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(model=LLM, messages=HELLO, max_tokens=3)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


async def test_stop_string_ends_the_reply_before_it(oai: openai.AsyncOpenAI) -> None:
    full = await oai.chat.completions.create(model=LLM, messages=HELLO, seed=1)
    content = full.choices[0].message.content or ""
    words = content.split()
    assert len(words) > 3
    stop = " " + words[2]
    cut = await oai.chat.completions.create(model=LLM, messages=HELLO, seed=1, stop=[stop])
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == content[: content.index(stop)]


async def test_seed_makes_replies_reproducible(oai: openai.AsyncOpenAI) -> None:
    replies = [
        (await oai.chat.completions.create(model=LLM, messages=HELLO, seed=seed, temperature=0.5))
        .choices[0]
        .message.content
        for seed in (11, 11, 12)
    ]
    assert replies[0] == replies[1] != replies[2]


async def test_json_schema_response_format_gives_matching_json(oai: openai.AsyncOpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    reply = await oai.chat.completions.create(
        model=LLM,
        messages=HELLO,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "strict": True, "schema": schema},
        },
    )
    document = json.loads(reply.choices[0].message.content or "")
    assert isinstance(document["name"], str) and isinstance(document["age"], int)


async def test_the_string_strict_of_lm_studio_docs_is_accepted(oai: openai.AsyncOpenAI) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"]}
    # Sent raw: the openai types allow only a boolean "strict".
    reply = await oai.chat.completions.create(
        model=LLM,
        messages=HELLO,
        extra_body={
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "j", "strict": "true", "schema": schema},
            }
        },
    )
    assert isinstance(json.loads(reply.choices[0].message.content or "")["a"], bool)


async def test_history_with_all_roles_is_accepted(oai: openai.AsyncOpenAI) -> None:
    reply = await oai.chat.completions.create(
        model=LLM,
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "What time is it?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "now", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
        ],
    )
    assert reply.choices[0].message.content


async def test_a_rest_prediction_jit_loads_into_the_websocket_state(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    await oai.chat.completions.create(model=LLM, messages=HELLO, extra_body={"ttl": 120})
    async with AsyncClient(server.api_host) as client:
        (handle,) = await client.llm.list_loaded()
        info = await handle.get_info()
    assert handle.identifier == LLM
    assert info.ttl_ms == 120_000
    # A second request reuses the loaded instance.
    await oai.chat.completions.create(model=LLM, messages=HELLO)
    assert [i.identifier for i in server.state.models.loaded()] == [LLM]


async def test_jit_loads_default_to_lm_studios_one_hour_ttl(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    await oai.chat.completions.create(model=LLM, messages=HELLO)
    (instance,) = server.state.models.loaded()
    assert instance.ttl_ms == 3_600_000 and instance.jit


async def test_a_model_loaded_over_the_websocket_serves_rest(
    server: LocalServer, oai: openai.AsyncOpenAI
) -> None:
    async with AsyncClient(server.api_host) as client:
        await client.llm.load_new_instance(LLM, "my-llm")
        reply = await oai.chat.completions.create(model="my-llm", messages=HELLO)
    assert reply.model == "my-llm"
    assert [i.identifier for i in server.state.models.loaded()] == ["my-llm"]


async def test_a_streaming_prediction_is_busy_and_a_disconnect_cancels_it() -> None:
    # Long and slow enough that only a cancel can end it while the test waits.
    async with LocalServer(
        port=0, load_time=0.0, reply_tokens=(100_000, 100_000), token_delay=0.001
    ) as server:
        oai = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
        try:
            stream = await oai.chat.completions.create(model=LLM, messages=HELLO, stream=True)
            received = 0
            async for _chunk in stream:
                received += 1
                if received == 3:
                    break
            (instance,) = server.state.models.loaded()
            assert instance.status == "generating"
            await stream.close()
            # The safety net only: a cancelled prediction ends within a few tokens.
            with anyio.fail_after(30):
                while instance.busy:  # noqa: ASYNC110 - server state has no event to await
                    await anyio.sleep(0.01)
        finally:
            await oai.close()


async def test_a_client_leaving_a_non_streamed_request_cancels_it() -> None:
    async with LocalServer(
        port=0, load_time=0.0, reply_tokens=(100_000, 100_000), token_delay=0.001
    ) as server:
        oai = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(lambda: oai.chat.completions.create(model=LLM, messages=HELLO))
                with anyio.fail_after(30):
                    while not any(i.status == "generating" for i in server.state.models.loaded()):  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                # Gives up waiting: the request's connection closes.
                tasks.cancel_scope.cancel()
            (instance,) = server.state.models.loaded()
            with anyio.fail_after(30):
                while instance.busy:  # noqa: ASYNC110 - server state has no event to await
                    await anyio.sleep(0.01)
        finally:
            await oai.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(min_size=1, max_size=200),
    max_tokens=st.integers(min_value=1, max_value=80),
)
async def test_any_message_streams_what_it_returns(
    oai: openai.AsyncOpenAI, text: str, max_tokens: int
) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": text}]
    whole = await oai.chat.completions.create(
        model=LLM,
        messages=messages,
        max_tokens=max_tokens,
    )
    stream = await oai.chat.completions.create(
        model=LLM,
        messages=messages,
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text_out = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text_out == whole.choices[0].message.content
    usage = chunks[-1].usage
    assert usage is not None and whole.usage is not None
    assert usage.completion_tokens == whole.usage.completion_tokens <= max_tokens
    finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    assert finish == whole.choices[0].finish_reason
    if finish == "length":
        assert usage.completion_tokens == max_tokens
