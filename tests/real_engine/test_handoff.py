"""Text handed from a worker thread to the event loop: in order, in batches, errors last."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lmstudio_async.server.engines.base import GeneratedPiece
from lmstudio_async.server.engines.handoff import TextHandoff

pytestmark = pytest.mark.anyio


def _produce(handoff: TextHandoff, count: int, error: Exception | None = None) -> threading.Thread:
    def run() -> None:
        for index in range(count):
            handoff.put(f"<{index}>", 1)
            time.sleep(0.001)
        handoff.finish(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


async def _collect(handoff: TextHandoff) -> list[GeneratedPiece]:
    return [piece async for piece in handoff.pieces()]


async def test_fast_tokens_arrive_in_order_in_fewer_pieces() -> None:
    handoff = TextHandoff(asyncio.get_running_loop(), interval=0.02)
    thread = _produce(handoff, 200)
    pieces = await _collect(handoff)
    thread.join()
    assert "".join(piece.text for piece in pieces) == "".join(f"<{i}>" for i in range(200))
    assert sum(piece.tokens_count for piece in pieces) == 200
    # About 200 ms of tokens at most 50 hand-overs a second.
    assert len(pieces) < 40


async def test_the_first_text_is_not_held_back() -> None:
    handoff = TextHandoff(asyncio.get_running_loop(), interval=10)
    handoff.put("first", 1)
    pieces = handoff.pieces()
    assert await asyncio.wait_for(pieces.__anext__(), 1) == GeneratedPiece("first", 1)
    handoff.finish()
    await asyncio.wait_for(pieces.aclose(), 1)


async def test_an_error_is_raised_after_the_text_before_it() -> None:
    handoff = TextHandoff(asyncio.get_running_loop(), interval=0)
    thread = _produce(handoff, 3, RuntimeError("decode failed"))
    texts = []
    with pytest.raises(RuntimeError, match="decode failed"):
        async for piece in handoff.pieces():
            texts.append(piece.text)
    thread.join()
    assert "".join(texts) == "<0><1><2>"
