"""respond_batch / complete_batch and their as-completed variants against real server processes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from lmstudio_async import (
    AsyncClient,
    AsyncLLM,
    BatchResult,
    Chat,
    LMStudioServerError,
    LMStudioTimeoutError,
    LMStudioValueError,
    LMStudioWebsocketError,
)
from lmstudio_async.testing import ServerProcess

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"


@pytest.fixture
async def llm(lmstudio_server: ServerProcess) -> AsyncIterator[AsyncLLM]:
    async with AsyncClient(lmstudio_server.api_host) as client:
        yield await client.llm.model(LLAMA)


def predict_requests(server: ServerProcess) -> int:
    return sum(
        1
        for r in server.requests()
        if r["message"].get("type") == "channelCreate"
        and r["message"]["endpoint"] in ("predict", "completeRawText")
    )


async def test_results_come_in_input_order_and_on_result_sees_each(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    prompts = [f"Question number {i}?" for i in range(30)]
    singles = [(await llm.respond(prompt)).content for prompt in prompts[:3]]
    seen: list[int] = []

    async def on_result(result: BatchResult) -> None:
        await asyncio.sleep(0)
        seen.append(result.index)

    results = await llm.respond_batch(prompts, concurrency=5, on_result=on_result)
    assert [r.index for r in results] == list(range(30))
    assert all(r.ok and r.error is None and r.attempts == 1 for r in results)
    assert {r.host for r in results} == {lmstudio_server.api_host}
    # The scripted replies depend only on the prompt: each result answers its own input.
    assert [r.content for r in results[:3]] == singles
    assert sorted(seen) == list(range(30))


async def test_one_bad_input_fails_alone_and_is_not_retried(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    chat = Chat("Be brief.")
    chat.add_user_message("Hi")
    inputs: list[Any] = ["fine", {"messages": 5}, chat, 42, {"messages": []}]
    lmstudio_server.clear_requests()
    results = await llm.respond_batch(inputs, max_retries=3)
    assert [r.ok for r in results] == [True, False, True, False, True]
    for failed in (results[1], results[3]):
        assert isinstance(failed.error, LMStudioValueError)
        assert failed.attempts == 1 and failed.result is None
        with pytest.raises(LMStudioValueError):
            failed.content  # noqa: B018
    assert predict_requests(lmstudio_server) == 3  # the bad ones never reached the server


async def test_complete_batch_runs_raw_prompts(llm: AsyncLLM) -> None:
    results = await llm.complete_batch(["Once upon", "a time"], config={"maxTokens": 5})
    assert all(r.ok for r in results)
    assert all(r.result and (r.result.stats.predicted_tokens_count or 0) <= 5 for r in results)


async def test_a_permanent_server_error_is_not_retried(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(failures={"llm/predict": "The model crashed"})
    lmstudio_server.clear_requests()
    results = await llm.respond_batch(["a", "b", "c"], max_retries=3)
    assert all(not r.ok for r in results)
    assert all(isinstance(r.error, LMStudioServerError) for r in results)
    assert all("The model crashed" in str(r.error) for r in results)
    assert [r.attempts for r in results] == [1, 1, 1]
    assert predict_requests(lmstudio_server) == 3


async def test_a_lost_socket_is_retried_up_to_max_retries(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(close_after_fragments=1)
    lmstudio_server.clear_requests()
    results = await llm.respond_batch(["a", "b"], max_retries=2, concurrency=1)
    assert all(isinstance(r.error, LMStudioWebsocketError) for r in results)
    assert [r.attempts for r in results] == [3, 3]
    assert predict_requests(lmstudio_server) == 6


async def test_a_transient_failure_then_success(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(close_after_fragments=1)
    lmstudio_server.clear_requests()

    def heal_after_first_failure() -> None:
        for _ in range(3000):  # a safety net; normally the first request lands at once
            if predict_requests(lmstudio_server) >= 1:
                break
            threading.Event().wait(0.01)
        lmstudio_server.clear_faults()

    healer = asyncio.create_task(asyncio.to_thread(heal_after_first_failure))
    (result,) = await llm.respond_batch(["retry me"], max_retries=10)
    await healer
    assert result.ok, result.error
    assert result.attempts >= 2


async def test_as_completed_yields_every_result_once(llm: AsyncLLM) -> None:
    async def prompts() -> AsyncIterator[str]:
        for i in range(12):
            yield f"async input {i}"

    indexes = []
    async with llm.respond_as_completed(prompts(), concurrency=4) as results:
        async for result in results:
            assert result.ok
            indexes.append(result.index)
    assert sorted(indexes) == list(range(12))


async def test_memory_stays_bounded_with_a_generator_input(llm: AsyncLLM) -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        while True:
            pulled += 1
            yield f"item {pulled}"

    # respond_batch holds only the window: when a result arrives, at most the window's
    # other items have been pulled beyond the results so far.
    got = 0
    concurrency = 4

    def check(_: BatchResult) -> None:
        nonlocal got
        got += 1
        assert pulled - got <= concurrency

    counted = 0

    def limited() -> Iterator[str]:
        nonlocal counted
        for item in endless():
            if counted == 200:
                return
            counted += 1
            yield item

    results = await llm.complete_batch(
        limited(), concurrency=concurrency, config={"maxTokens": 2}, on_result=check
    )
    assert len(results) == 200 and got == 200

    # The as-completed variant never runs ahead of its consumer by more than the window.
    pulled = 0
    stream = llm.complete_as_completed(endless(), concurrency=concurrency, config={"maxTokens": 2})
    consumed = 0
    async for _ in stream:
        consumed += 1
        assert stream.pulled - consumed <= concurrency
        if consumed == 50:
            break
    assert pulled <= 50 + concurrency + 1


async def test_cancelling_the_call_cancels_every_prediction_in_flight(
    lmstudio_server_factory: Any,
) -> None:
    server = lmstudio_server_factory("--token-delay", "0.01", "--reply-tokens", "400:400")
    async with AsyncClient(server.api_host) as client:
        llm = await client.llm.model(LLAMA)
        server.clear_requests()
        task = asyncio.create_task(llm.respond_batch([f"q{i}" for i in range(10)], concurrency=3))
        for _ in range(3000):  # a safety net: the three requests go out at once
            if await asyncio.to_thread(predict_requests, server) == 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(10):
            await asyncio.sleep(0.05)
        assert client._connections["llm"].open_channels == 0
        cancels = [
            r
            for r in server.requests()
            if r["message"].get("type") == "channelSend"
            and r["message"]["message"]["type"] == "cancel"
        ]
        assert len(cancels) == 3
        assert predict_requests(server) == 3  # nothing more was started


async def test_bad_arguments_are_refused_before_anything_is_sent(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.clear_requests()
    with pytest.raises(LMStudioValueError, match="iterable"):
        await llm.respond_batch("one prompt")
    with pytest.raises(LMStudioValueError, match="iterable"):
        await llm.respond_batch({"messages": []})
    with pytest.raises(LMStudioValueError, match="concurrency"):
        await llm.respond_batch(["a"], concurrency=0)
    with pytest.raises(LMStudioValueError, match="max_retries"):
        await llm.respond_batch(["a"], max_retries=-1)
    with pytest.raises(LMStudioValueError):
        await llm.respond_batch(["a"], config={"temperature": "hot"})
    assert predict_requests(lmstudio_server) == 0


async def test_a_failing_input_iterator_fails_the_call(llm: AsyncLLM) -> None:
    def broken() -> Iterator[str]:
        yield "fine"
        raise RuntimeError("the input file is unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        await llm.respond_batch(broken())


async def test_a_timeout_is_transient_and_retried(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    lmstudio_server.set_faults(delays={"llm/predict": 2.0})
    lmstudio_server.clear_requests()
    (result,) = await llm.respond_batch(["slow"], timeout=0.3, max_retries=1)
    assert isinstance(result.error, LMStudioTimeoutError)
    assert result.attempts == 2
    assert predict_requests(lmstudio_server) == 2


async def test_a_failing_on_result_stops_the_batch_and_surfaces(
    llm: AsyncLLM, lmstudio_server: ServerProcess
) -> None:
    def on_result(result: BatchResult) -> None:
        raise KeyError("the caller's bug")

    with pytest.raises(KeyError, match="the caller's bug"):
        await llm.respond_batch([f"q{i}" for i in range(20)], concurrency=4, on_result=on_result)
    for _ in range(10):
        await asyncio.sleep(0.05)
    assert llm._client._connections["llm"].open_channels == 0
    assert predict_requests(lmstudio_server) < 20  # the rest was never sent
