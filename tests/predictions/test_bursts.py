"""A stream whose whole reply arrives before it is read still yields every fragment once, in
order (iteration decodes a long backlog a slice at a time), and decoding a burst does not
set off the garbage collector."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import msgspec
import pytest

from lmstudio_async import AsyncClient
from lmstudio_async.protocol import FragmentPacket, PredictPacket, lenient_decoder_for

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


def test_decoded_fragments_do_not_add_to_the_garbage_collectors_count() -> None:
    # The cyclic GC runs once enough GC-capable objects were made and not freed; a burst
    # decoded a batch at a time keeps thousands alive at once, so fragments must not count.
    decoder = lenient_decoder_for(PredictPacket, "predict")
    frames = [
        msgspec.json.encode(
            {
                "type": "channelSend",
                "channelId": 1,
                "message": {"type": "fragment", "fragment": {"content": f" word{i}"}},
            }
        ).decode()
        for i in range(2000)
    ]
    gc.disable()
    try:
        before = gc.get_count()[0]
        packets = decoder.decode_frames(frames)
        made = gc.get_count()[0] - before
    finally:
        gc.enable()
    assert [type(packet) for packet in packets] == [FragmentPacket] * len(frames)
    assert packets[-1].fragment.content == " word1999"
    assert made < 10, f"decoding {len(frames)} fragments made {made} GC-capable objects"
