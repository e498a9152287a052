"""Fragments per second of one long streamed prediction, per client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import lmstudio

import lmstudio_sync
from lmstudio_async import AsyncClient

from .raw_loop import RawLoop, stream_prediction

MODEL = "llama-3.2-1b-instruct"
PROMPT = "Write a very long story."


@dataclass(frozen=True)
class Run:
    fragments: int
    seconds: float
    #: CPU time of this (the client's) process, all threads: what the client itself costs.
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.fragments / self.seconds


class _Timer:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def run(self, fragments: int) -> Run:
        return Run(fragments, time.perf_counter() - self.wall, time.process_time() - self.cpu)


async def _count(fragments: AsyncIterator[object]) -> int:
    count = 0
    async for _fragment in fragments:
        count += 1
    return count


def _measure(stream_once: Callable[[], int], rounds: int) -> list[Run]:
    runs = []
    for _ in range(rounds):
        timer = _Timer()
        runs.append(timer.run(stream_once()))
    return runs


async def _measure_async(stream_once: Callable[[], Awaitable[int]], rounds: int) -> list[Run]:
    runs = []
    for _ in range(rounds):
        timer = _Timer()
        runs.append(timer.run(await stream_once()))
    return runs


async def ours(api_host: str, rounds: int) -> list[Run]:
    async with AsyncClient(api_host) as client:
        llm = await client.llm.model(MODEL)
        return await _measure_async(lambda: _count(aiter(llm.respond_stream(PROMPT))), rounds)


def ours_sync(api_host: str, rounds: int) -> list[Run]:
    with lmstudio_sync.Client(api_host) as client:
        llm = client.llm.model(MODEL)
        return _measure(lambda: sum(1 for _ in llm.respond_stream(PROMPT)), rounds)


async def official_async(api_host: str, rounds: int) -> list[Run]:
    async with lmstudio.AsyncClient(api_host) as client:
        llm = await client.llm.model(MODEL)

        async def stream_once() -> int:
            return await _count(aiter(await llm.respond_stream(PROMPT)))

        return await _measure_async(stream_once, rounds)


def official_sync(api_host: str, rounds: int) -> list[Run]:
    with lmstudio.Client(api_host) as client:
        llm = client.llm.model(MODEL)
        return _measure(lambda: sum(1 for _ in llm.respond_stream(PROMPT)), rounds)


async def raw(api_host: str, rounds: int) -> list[Run]:
    async with RawLoop(api_host, "llm") as loop:
        return await _measure_async(lambda: stream_prediction(loop, MODEL, PROMPT), rounds)


def run_all(api_host: str, rounds: int = 3) -> dict[str, list[Run]]:
    """Every client against the same server, one after the other; best of ``rounds`` each."""
    return {
        "lmstudio-async (AsyncClient)": asyncio.run(ours(api_host, rounds)),
        "lmstudio-async (Client, sync)": ours_sync(api_host, rounds),
        "official lmstudio 1.5.0 (AsyncClient)": asyncio.run(official_async(api_host, rounds)),
        "official lmstudio 1.5.0 (Client, sync)": official_sync(api_host, rounds),
        "raw aiohttp + msgspec loop": asyncio.run(raw(api_host, rounds)),
    }
