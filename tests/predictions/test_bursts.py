"""A stream whose whole reply arrives before it is read still yields every fragment once, in
order (iteration decodes a long backlog a slice at a time)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lmstudio_async import AsyncClient

pytestmark = pytest.mark.anyio

LLAMA = "llama-3.2-1b-instruct"
TOKENS = 3000


async def test_a_backlog_of_thousands_of_fragments_is_yielded_whole_and_in_order(
    lmstudio_server_factory: Any,
) -> None:
    server = lmstudio_server_factory("--token-delay", "0", "--reply-tokens", f"{TOKENS}:{TOKENS}")
    prompt = "Tell me everything you know"
    async with AsyncClient(server.api_host) as client:
        llm = await client.llm.model(LLAMA)
        expected = await llm.respond(prompt)  # read as it arrives
        stream = llm.respond_stream(prompt)
        await stream.start()
        channel = stream._channel
        assert channel is not None
        for _ in range(6000):  # a safety net only: the server writes all at once
            if channel.ended:
                break
            await asyncio.sleep(0.02)
        assert channel.ended, "the server never finished the reply"
        fragments = [fragment.content async for fragment in stream]
    result = stream.result()
    assert len(fragments) == TOKENS == result.stats.predicted_tokens_count
    assert "".join(fragments) == result.content == expected.content
