"""What ``stream.result()`` gives after a stream is left: a plain call, as in the official SDK."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lmstudio_async import (
    AsyncClient,
    AsyncLLM,
    LMStudioCancelledError,
    LMStudioRuntimeError,
    PredictionResult,
)
from lmstudio_async.testing import ServerProcess

from .test_predictions import LLAMA, cancels_sent, settle

pytestmark = pytest.mark.anyio


@pytest.fixture
async def slow(lmstudio_server_factory: Any) -> AsyncIterator[tuple[AsyncLLM, ServerProcess]]:
    """200 tokens at 10 ms each: time to leave or cancel a stream in the middle."""
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "200:200")
    async with AsyncClient(server.api_host) as client:
        yield await client.llm.model(LLAMA), server


async def test_cancel_then_break_leaves_the_text_so_far_in_result(
    slow: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow
    stream = llm.respond_stream("A very long story")
    seen = []
    async for fragment in stream:
        seen.append(fragment.content)
        if len(seen) == 4:
            await stream.cancel()
            break
    result = stream.result()  # a plain call, as official code writes it
    assert isinstance(result, PredictionResult)
    assert result.stats.stop_reason == "userStopped"
    assert result.content == "".join(seen)
    assert (result.stats.predicted_tokens_count or 0) < 200
    await settle(llm)
    assert cancels_sent(server) == 1


async def test_result_is_a_plain_call_once_the_stream_is_iterated(llm: AsyncLLM) -> None:
    stream = llm.respond_stream("Just answer")
    text = "".join([fragment.content async for fragment in stream])
    assert not inspect.iscoroutinefunction(type(stream).result)
    assert stream.result().content == text and stream.done


async def test_result_before_the_end_says_how_to_wait(llm: AsyncLLM) -> None:
    stream = llm.respond_stream("Not yet")
    with pytest.raises(LMStudioRuntimeError, match=r"has not started.*wait_for_result"):
        stream.result()
    await stream.start()
    with pytest.raises(LMStudioRuntimeError, match=r"has not finished.*wait_for_result"):
        stream.result()
    waited = await stream.wait_for_result()
    assert stream.result() is waited and waited.stats.stop_reason == "eosFound"


async def test_a_plain_break_cancels_and_result_says_why(
    slow: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow
    stream = llm.respond_stream("Left without cancel()")
    async for _ in stream:
        break
    await settle(llm)
    assert cancels_sent(server) == 1
    with pytest.raises(LMStudioCancelledError, match=r"await stream\.cancel\(\)"):
        stream.result()


async def test_waiting_right_after_a_break_runs_the_prediction_to_its_end(
    slow: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, server = slow
    stream = llm.respond_stream("Keep going after the loop")
    first = ""
    async for fragment in stream:
        first = fragment.content
        break
    result = await stream.wait_for_result()
    assert result.content.startswith(first)
    # The whole reply, not cut short: the finaliser of the left loop did not cancel it.
    assert result.stats.stop_reason == "eosFound"
    assert result.stats.predicted_tokens_count == 200
    await settle(llm)
    assert cancels_sent(server) == 0


async def test_cancel_from_another_task_ends_the_loop_with_the_result(
    slow: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, _ = slow
    stream = llm.respond_stream("Stopped from elsewhere")
    seen: list[str] = []
    five = asyncio.Event()

    async def iterate() -> None:
        async for fragment in stream:
            seen.append(fragment.content)
            if len(seen) == 5:
                five.set()

    iterating = asyncio.ensure_future(iterate())
    await five.wait()
    await stream.cancel()
    assert stream.result().stats.stop_reason == "userStopped"
    await asyncio.wait_for(iterating, 10)
    assert stream.result().content == "".join(seen)
    await settle(llm)


async def test_a_callback_may_cancel_its_own_stream(
    slow: tuple[AsyncLLM, ServerProcess],
) -> None:
    llm, _ = slow
    counted: list[str] = []

    async def on_fragment(fragment: Any) -> None:
        counted.append(fragment.content)
        if len(counted) == 3:
            await stream.cancel()

    stream = llm.respond_stream("Cancel yourself", on_prediction_fragment=on_fragment)
    result = await stream.wait_for_result()
    assert result.stats.stop_reason == "userStopped"
    assert result.content == "".join(counted) and len(counted) == 3
    await settle(llm)


async def test_two_tasks_iterating_one_stream_each_get_other_fragments(llm: AsyncLLM) -> None:
    stream = llm.respond_stream("Shared between two loops")

    async def collect() -> list[Any]:
        return [fragment async for fragment in stream]

    one, two = await asyncio.gather(collect(), collect())
    result = stream.result()
    # Every fragment reaches exactly one of the loops: none lost, none twice.
    assert sum(f.tokens_count for f in one + two) == result.stats.predicted_tokens_count
    assert sorted(f.content for f in one + two) == sorted(
        f.content for f in await _fragments_of(llm, "Shared between two loops")
    )


async def _fragments_of(llm: AsyncLLM, prompt: str) -> list[Any]:
    return [fragment async for fragment in llm.respond_stream(prompt)]


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)
