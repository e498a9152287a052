"""Fragments per second of one long streamed prediction, per client."""

from __future__ import annotations

import asyncio
import time
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


async def ours(api_host: str, rounds: int) -> list[Run]:
    async with AsyncClient(api_host) as client:
        llm = await client.llm.model(MODEL)
        runs = []
        for _ in range(rounds):
            timer = _Timer()
            count = 0
            async for _fragment in llm.respond_stream(PROMPT):
                count += 1
            runs.append(timer.run(count))
        return runs


def ours_sync(api_host: str, rounds: int) -> list[Run]:
    with lmstudio_sync.Client(api_host) as client:
        llm = client.llm.model(MODEL)
        runs = []
        for _ in range(rounds):
            timer = _Timer()
            count = 0
            for _fragment in llm.respond_stream(PROMPT):
                count += 1
            runs.append(timer.run(count))
        return runs


async def official_async(api_host: str, rounds: int) -> list[Run]:
    async with lmstudio.AsyncClient(api_host) as client:
        llm = await client.llm.model(MODEL)
        runs = []
        for _ in range(rounds):
            timer = _Timer()
            count = 0
            stream = await llm.respond_stream(PROMPT)
            async for _fragment in stream:
                count += 1
            runs.append(timer.run(count))
        return runs


def official_sync(api_host: str, rounds: int) -> list[Run]:
    with lmstudio.Client(api_host) as client:
        llm = client.llm.model(MODEL)
        runs = []
        for _ in range(rounds):
            timer = _Timer()
            count = 0
            for _fragment in llm.respond_stream(PROMPT):
                count += 1
            runs.append(timer.run(count))
        return runs


async def raw(api_host: str, rounds: int) -> list[Run]:
    runs = []
    for _ in range(rounds):
        async with RawLoop(api_host, "llm") as loop:
            timer = _Timer()
            count = await stream_prediction(loop, MODEL, PROMPT)
            runs.append(timer.run(count))
    return runs


def run_all(api_host: str, rounds: int = 3) -> dict[str, list[Run]]:
    """Every client against the same server, one after the other; best of ``rounds`` each."""
    return {
        "lmstudio-async (AsyncClient)": asyncio.run(ours(api_host, rounds)),
        "lmstudio-async (Client, sync)": ours_sync(api_host, rounds),
        "official lmstudio 1.5.0 (AsyncClient)": asyncio.run(official_async(api_host, rounds)),
        "official lmstudio 1.5.0 (Client, sync)": official_sync(api_host, rounds),
        "raw aiohttp + msgspec loop": asyncio.run(raw(api_host, rounds)),
    }
