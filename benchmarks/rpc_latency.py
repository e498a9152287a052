"""Round-trip latency of a small RPC (``llm/listLoaded`` with nothing loaded), per client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import lmstudio

import lmstudio_sync
from lmstudio_async import AsyncClient

from .raw_loop import RawLoop

Timings = list[float]


async def _time_calls(call: Callable[[], Awaitable[object]], rounds: int, warmup: int) -> Timings:
    for _ in range(warmup):
        await call()
    timings: Timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return timings


def _time_calls_sync(call: Callable[[], object], rounds: int, warmup: int) -> Timings:
    for _ in range(warmup):
        call()
    timings: Timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


async def ours(api_host: str, rounds: int, warmup: int) -> Timings:
    async with AsyncClient(api_host) as client:
        return await _time_calls(client.llm.list_loaded, rounds, warmup)


def ours_sync(api_host: str, rounds: int, warmup: int) -> Timings:
    with lmstudio_sync.Client(api_host) as client:
        return _time_calls_sync(client.llm.list_loaded, rounds, warmup)


async def official_async(api_host: str, rounds: int, warmup: int) -> Timings:
    async with lmstudio.AsyncClient(api_host) as client:
        return await _time_calls(client.llm.list_loaded, rounds, warmup)


def official_sync(api_host: str, rounds: int, warmup: int) -> Timings:
    with lmstudio.Client(api_host) as client:
        return _time_calls_sync(client.llm.list_loaded, rounds, warmup)


async def raw(api_host: str, rounds: int, warmup: int) -> Timings:
    async with RawLoop(api_host, "llm") as loop:
        return await _time_calls(lambda: loop.call("listLoaded"), rounds, warmup)


def run_all(api_host: str, rounds: int = 2000, warmup: int = 200) -> dict[str, Timings]:
    """Every client, one after the other, against the same server."""
    return {
        "lmstudio-async (AsyncClient)": asyncio.run(ours(api_host, rounds, warmup)),
        "lmstudio-async (Client, sync)": ours_sync(api_host, rounds, warmup),
        "official lmstudio 1.5.0 (AsyncClient)": asyncio.run(
            official_async(api_host, rounds, warmup)
        ),
        "official lmstudio 1.5.0 (Client, sync)": official_sync(api_host, rounds, warmup),
        "raw aiohttp + msgspec loop": asyncio.run(raw(api_host, rounds, warmup)),
    }
