"""The server honours an instance's parallel-prediction limit and reports its queue."""

from __future__ import annotations

import asyncio

import pytest

from lmstudio_async import AsyncClient, AsyncLLM
from lmstudio_async.protocol import GetInstanceProcessingStateParameter, InstanceProcessingState
from lmstudio_async.server import LocalServer

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"


async def _queued(llm: AsyncLLM) -> int:
    parameter = GetInstanceProcessingStateParameter(
        specifier=llm._specifier(), throw_if_not_found=True
    )
    state = await llm._client._call(
        "llm", "getInstanceProcessingState", parameter, InstanceProcessingState
    )
    return state.queued


async def test_predictions_beyond_the_limit_wait_and_all_complete() -> None:
    async with (
        LocalServer(port=0, token_delay=0.01, reply_tokens=(100, 100)) as server,
        AsyncClient(server.api_host) as client,
    ):
        llm = await client.llm.model(LLAMA, config={"maxParallelPredictions": 2})
        assert (await llm.get_load_config()).max_parallel_predictions == 2
        streams = [llm.respond_stream(f"question {i}") for i in range(5)]
        for stream in streams:
            await stream.start()
        results = asyncio.gather(*(stream.wait_for_result() for stream in streams))
        for _ in range(400):  # a safety net; the queue forms as soon as the requests land
            if await _queued(llm) == 3:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the server never queued the predictions beyond its limit")
        assert all(result.stats.predicted_tokens_count == 100 for result in await results)
        assert await _queued(llm) == 0
