"""Round-trip latency of a small RPC (``llm/listLoaded``), per client, in interleaved blocks."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import lmstudio

import lmstudio_sync
from lmstudio_async import AsyncClient

from .raw_loop import RawLoop
from .streaming import (
    OFFICIAL,
    OFFICIAL_SYNC,
    OURS,
    OURS_SYNC,
    RAW,
    Runner,
    _AsyncRunner,
    interleave,
)


@dataclass(frozen=True)
class Block:
    """One block of calls: each call's round-trip time, and the process's CPU time for all."""

    timings: list[float]
    cpu_seconds: float

    @property
    def cpu_per_call(self) -> float:
        return self.cpu_seconds / len(self.timings)


class _AsyncCaller(_AsyncRunner):
    call: Callable[[], Awaitable[object]]

    def calls(self, count: int) -> Block:
        async def timed() -> Block:
            timings: list[float] = []
            cpu = time.process_time()
            for _ in range(count):
                started = time.perf_counter()
                await self.call()
                timings.append(time.perf_counter() - started)
            return Block(timings, time.process_time() - cpu)

        return self.run(timed())


class _Ours(_AsyncCaller):
    name = OURS

    def __init__(self, api_host: str) -> None:
        super().__init__()
        client = self.run(self.stack.enter_async_context(AsyncClient(api_host)))
        self.call = client.llm.list_loaded


class _Official(_AsyncCaller):
    name = OFFICIAL

    def __init__(self, api_host: str) -> None:
        super().__init__()
        client = self.run(self.stack.enter_async_context(lmstudio.AsyncClient(api_host)))
        self.call = client.llm.list_loaded


class _Raw(_AsyncCaller):
    name = RAW

    def __init__(self, api_host: str) -> None:
        super().__init__()
        loop = self.run(self.stack.enter_async_context(RawLoop(api_host, "llm")))
        self.call = lambda: loop.call("listLoaded")


class _SyncCaller(Runner):
    def __init__(self, client: Any) -> None:
        self.client = client

    def calls(self, count: int) -> Block:
        call = self.client.llm.list_loaded
        timings: list[float] = []
        cpu = time.process_time()
        for _ in range(count):
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
        return Block(timings, time.process_time() - cpu)

    def close(self) -> None:
        self.client.close()


class _OursSync(_SyncCaller):
    name = OURS_SYNC

    def __init__(self, api_host: str) -> None:
        super().__init__(lmstudio_sync.Client(api_host))


class _OfficialSync(_SyncCaller):
    name = OFFICIAL_SYNC

    def __init__(self, api_host: str) -> None:
        super().__init__(lmstudio.Client(api_host))


CALLERS: tuple[type[Runner], ...] = (_Ours, _OursSync, _Official, _OfficialSync, _Raw)
#: Without the official clients in the rotation (their turns change the bare loop's figures).
OURS_AND_BARE: tuple[type[Runner], ...] = (_Ours, _OursSync, _Raw)


def run_all(
    api_host: str, rounds: int = 7, block: int = 300, kinds: tuple[type[Runner], ...] = CALLERS
) -> dict[str, list[Block]]:
    """Blocks of ``block`` calls per client, interleaved over ``rounds`` rounds."""
    with contextlib.ExitStack() as stack:
        callers: list[Runner] = []
        for kind in kinds:
            caller = kind(api_host)
            stack.callback(caller.close)
            callers.append(caller)
        return interleave(callers, rounds, lambda c: c.calls(block))  # type: ignore[attr-defined]
