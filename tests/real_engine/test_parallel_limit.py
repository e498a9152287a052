"""The llama-cpp engine runs one prediction at a time per instance, and says so."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp", reason="the llama-cpp engine needs llama-cpp-python")

from lmstudio_async import AsyncClient

from .bundled import bundled_gguf_or_skip
from .conftest import GREEDY, LLM_KEY

bundled_gguf_or_skip()

pytestmark = pytest.mark.anyio


async def test_the_reported_limit_is_one_and_a_batch_still_completes(
    client: AsyncClient,
) -> None:
    llm = await client.llm.load_new_instance(
        LLM_KEY, "parallel-limit", config={"maxParallelPredictions": 4}, ttl=None
    )
    try:
        assert (await llm.get_load_config()).max_parallel_predictions == 1
        results = await llm.complete_batch(
            ["One, two,", "Red, green,", "Monday, Tuesday,"],
            concurrency=3,
            config={**GREEDY, "maxTokens": 4},
        )
        assert all(r.ok and r.result and r.result.content for r in results)
        alone = await llm.complete("Red, green,", config={**GREEDY, "maxTokens": 4})
        assert results[1].content == alone.content  # queued predictions never share a context
    finally:
        await llm.unload()
