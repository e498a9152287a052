"""Consumers of many streams on one socket are woken once per burst of frames, never held
back for long, and never lose or reorder a frame."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from lmstudio_async import AsyncClient
from lmstudio_async.protocol import FragmentPacket, PredictPacket, lenient_decoder_for
from lmstudio_async.transport import wakes
from lmstudio_async.transport.wakes import WakeBatcher

from .test_robustness import Script, scripted_peer  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio

PREDICT = lenient_decoder_for(PredictPacket, "llm/predict")


async def iterations_until(future: asyncio.Future[None], limit: int = 1000) -> int:
    """How many loop iterations pass before ``future`` is done."""
    for count in range(limit):
        if future.done():
            return count
        await asyncio.sleep(0)
    raise AssertionError(f"not done after {limit} iterations")


async def test_on_a_quiet_socket_a_waiter_wakes_within_a_few_iterations() -> None:
    batcher = WakeBatcher(asyncio.get_running_loop())
    waiter = asyncio.get_running_loop().create_future()
    batcher.add(waiter, [])
    assert not waiter.done()  # never synchronously: the reader may have more frames
    assert await iterations_until(waiter) <= 3


async def test_waiters_are_held_while_frames_keep_coming_but_never_past_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def flood(buffer: list[str]) -> asyncio.Task[None]:
        async def reader() -> None:  # takes a frame every iteration, as under a flood
            while not stop.is_set():
                buffer.append("frame")
                await asyncio.sleep(0)

        return asyncio.create_task(reader())

    # Held: with bounds no test run reaches, hundreds of iterations pass without a wake-up.
    monkeypatch.setattr(wakes, "MAX_WAKE_DELAY", 3600.0)
    monkeypatch.setattr(wakes, "ENOUGH_FRAMES", 10**9)
    held = WakeBatcher(loop)
    buffer: list[str] = []
    task = flood(buffer)
    waiters = [loop.create_future() for _ in range(3)]
    for waiter in waiters:
        held.add(waiter, buffer)
    for _ in range(300):
        await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    held.flush()
    assert all(w.done() for w in waiters)

    # Bounded: the flood goes on, and the waiters still wake once the bound has passed.
    monkeypatch.setattr(wakes, "MAX_WAKE_DELAY", 0.05)
    bounded = WakeBatcher(loop)
    buffer2: list[str] = []
    task2 = flood(buffer2)
    started = loop.time()
    waiter = loop.create_future()
    bounded.add(waiter, buffer2)
    await asyncio.wait_for(waiter, timeout=60)
    assert loop.time() - started >= 0.05 * 0.9
    assert not task2.done()
    stop.set()
    await asyncio.gather(task, task2)


async def test_a_consumer_with_enough_frames_waiting_wakes_while_frames_keep_coming(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One stream alone on a socket: holding it back would only let its frames pile up.
    monkeypatch.setattr(wakes, "MAX_WAKE_DELAY", 3600.0)
    loop = asyncio.get_running_loop()
    batcher = WakeBatcher(loop)
    buffer = ["frame"]
    waiter = loop.create_future()
    batcher.add(waiter, buffer)
    iterations = 0
    while not waiter.done():  # the reader takes a frame every iteration
        assert iterations < 1000, "still held, under a time bound never reached"
        buffer.append("frame")
        await asyncio.sleep(0)
        iterations += 1
    assert len(buffer) >= wakes.ENOUGH_FRAMES
    assert iterations <= 2 * wakes.ENOUGH_FRAMES + 5


async def test_flush_wakes_everyone_at_once_and_skips_cancelled_waiters() -> None:
    loop = asyncio.get_running_loop()
    batcher = WakeBatcher(loop)
    kept, cancelled = loop.create_future(), loop.create_future()
    batcher.add(kept, [])
    batcher.add(cancelled, [])
    cancelled.cancel()
    batcher.flush()
    assert kept.done() and cancelled.cancelled()
    for _ in range(5):  # the cancelled timer does not fire later
        await asyncio.sleep(0)
    batcher.add(loop.create_future(), [])  # and a new burst starts cleanly


async def test_interleaved_frames_of_many_streams_each_arrive_whole_and_in_order(
    scripted_peer: Callable[[Script], Awaitable[str]],  # noqa: F811
) -> None:
    streams, fragments = 120, 30
    creates: list[dict[str, Any]] = []

    async def script(ws: web.WebSocketResponse, create: dict[str, Any]) -> None:
        creates.append(create)
        if len(creates) < streams:
            return
        # Round-robin across every channel, written as fast as the socket takes it.
        for i in range(fragments):
            for c in creates:
                n = c["creationParameter"]["n"]
                message = {"type": "fragment", "fragment": {"content": f"{n}:{i}"}}
                frame = {"type": "channelSend", "channelId": c["channelId"], "message": message}
                await ws.send_str(json.dumps(frame, separators=(",", ":")))
        for c in creates:
            await ws.send_str(json.dumps({"type": "channelClose", "channelId": c["channelId"]}))

    host = await scripted_peer(script)
    async with AsyncClient(host) as client:

        async def one(n: int) -> list[str]:
            channel = await client._open_channel("llm", "predict", {"n": n}, PREDICT)
            return [p.fragment.content async for p in channel if isinstance(p, FragmentPacket)]

        results = await asyncio.gather(*(one(n) for n in range(streams)))
        assert client._connections["llm"].open_channels == 0
    for n, texts in enumerate(results):
        assert texts == [f"{n}:{i}" for i in range(fragments)]
