"""Streamed predictions per client: one long stream, or many at once on one client.

Each client is a :class:`Runner` that stays connected for the whole benchmark
(async clients on their own event loop, driven from this thread), so a round
times only the streaming. :func:`interleave` runs the clients round by round in
a rotated order, so drift in the shared machine's speed hits them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import lmstudio

import lmstudio_sync
from lmstudio_async import AsyncClient

from .raw_loop import RawLoop, stream_many, stream_prediction

MODEL = "llama-3.2-1b-instruct"
PROMPT = "Write a very long story."

OURS = "lmstudio-async (AsyncClient)"
OURS_SYNC = "lmstudio-async (Client, sync)"
OURS_ONE_AT_A_TIME = "lmstudio-async (AsyncClient), the same streams one at a time"
OFFICIAL = "official lmstudio 1.5.0 (AsyncClient)"
OFFICIAL_SYNC = "official lmstudio 1.5.0 (Client, sync)"
RAW = "bare aiohttp + msgspec loop"

T = TypeVar("T")


def burst_prompt(fragments: int | None) -> str:
    """The prompt; the burst relay sends ``fragments`` fragments for it (all recorded if None)."""
    return PROMPT if fragments is None else f"{PROMPT} burst-fragments={fragments}"


@dataclass(frozen=True)
class Run:
    fragments: int
    seconds: float
    #: CPU time of this (the client's) process, all threads: what the client itself costs.
    cpu_seconds: float
    #: Streams that failed in this round (then the figures cover the others).
    failures: int = 0
    failure: str = ""

    @property
    def rate(self) -> float:
        return self.fragments / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_fragment(self) -> float:
        return self.cpu_seconds / self.fragments if self.fragments else float("nan")


def _timed(work: Callable[[], tuple[int, int, str]]) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    fragments, failures, failure = work()
    return Run(fragments, time.perf_counter() - wall, time.process_time() - cpu, failures, failure)


async def _count(fragments: AsyncIterator[object]) -> int:
    count = 0
    async for _fragment in fragments:
        count += 1
    return count


async def _gather_counts(streams: list[Coroutine[Any, Any, int]]) -> tuple[int, int, str]:
    outcomes = await asyncio.gather(*streams, return_exceptions=True)
    counts = [o for o in outcomes if isinstance(o, int)]
    errors = [o for o in outcomes if not isinstance(o, int)]
    first = f"{type(errors[0]).__name__}: {errors[0]}"[:200] if errors else ""
    return sum(counts), len(errors), first


class Runner:
    """One client, connected once; ``stream(n, prompt)`` runs ``n`` concurrent streams."""

    name: str

    def __init__(self, api_host: str) -> None:
        pass

    def stream(self, streams: int, prompt: str) -> Run:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _AsyncRunner(Runner):
    # Every async client's loop runs in this (the main) thread, one client at a time, as
    # most programs run theirs. With a thread per client instead, RPC latencies came out
    # bimodal (about 70 or 130 us for the same client) depending on where the scheduler
    # put each thread, which made the comparison a lottery.
    def __init__(self, api_host: str = "") -> None:
        self.loop = asyncio.new_event_loop()
        self.stack = contextlib.AsyncExitStack()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.close()


class Ours(_AsyncRunner):
    name = OURS

    def __init__(self, api_host: str) -> None:
        super().__init__()
        client = self.run(self.stack.enter_async_context(AsyncClient(api_host)))
        self.llm = self.run(client.llm.model(MODEL))

    def stream(self, streams: int, prompt: str) -> Run:
        async def many() -> tuple[int, int, str]:
            return await _gather_counts(
                [_count(aiter(self.llm.respond_stream(prompt))) for _ in range(streams)]
            )

        return _timed(lambda: self.run(many()))


class OursOneAtATime(Ours):
    """The same streams as :class:`Ours`, run one after another: the baseline that tells
    what running them concurrently costs per fragment (the work per stream is the same)."""

    name = OURS_ONE_AT_A_TIME

    def stream(self, streams: int, prompt: str) -> Run:
        async def each() -> tuple[int, int, str]:
            total = 0
            for _ in range(streams):
                total += await _count(aiter(self.llm.respond_stream(prompt)))
            return total, 0, ""

        return _timed(lambda: self.run(each()))


class Official(_AsyncRunner):
    name = OFFICIAL

    def __init__(self, api_host: str) -> None:
        super().__init__()
        client = self.run(self.stack.enter_async_context(lmstudio.AsyncClient(api_host)))
        self.llm = self.run(client.llm.model(MODEL))

    def stream(self, streams: int, prompt: str) -> Run:
        async def one() -> int:
            return await _count(aiter(await self.llm.respond_stream(prompt)))

        async def many() -> tuple[int, int, str]:
            return await _gather_counts([one() for _ in range(streams)])

        return _timed(lambda: self.run(many()))


class Raw(_AsyncRunner):
    name = RAW

    def __init__(self, api_host: str) -> None:
        super().__init__()
        self.raw = self.run(self.stack.enter_async_context(RawLoop(api_host, "llm")))

    def stream(self, streams: int, prompt: str) -> Run:
        if streams == 1:
            return _timed(lambda: (self.run(stream_prediction(self.raw, MODEL, prompt)), 0, ""))
        return _timed(lambda: (self.run(stream_many(self.raw, MODEL, prompt, streams)), 0, ""))


class _SyncRunner(Runner):
    def __init__(self, client: Any) -> None:  # takes the client, not its host
        self.client = client
        self.llm = client.llm.model(MODEL)

    def stream(self, streams: int, prompt: str) -> Run:
        if streams != 1:
            raise ValueError("sync clients run one stream at a time here")
        return _timed(lambda: (sum(1 for _ in self.llm.respond_stream(prompt)), 0, ""))

    def close(self) -> None:
        self.client.close()


class OursSync(_SyncRunner):
    name = OURS_SYNC

    def __init__(self, api_host: str) -> None:
        super().__init__(lmstudio_sync.Client(api_host))


class OfficialSync(_SyncRunner):
    name = OFFICIAL_SYNC

    def __init__(self, api_host: str) -> None:
        super().__init__(lmstudio.Client(api_host))


ALL: tuple[type[Runner], ...] = (Ours, OursSync, Official, OfficialSync, Raw)
CONCURRENT: tuple[type[Runner], ...] = (Ours, OursOneAtATime, Official, Raw)
#: Without the official clients, whose CPU-heavy turns speed up whichever client comes next.
OURS_AND_BARE: tuple[type[Runner], ...] = (Ours, OursSync, Raw)


def balanced_orders(count: int) -> list[list[int]]:
    """Orders of ``count`` clients in which each client comes right after each other one
    equally often (a Williams design: ``count`` orders, twice that for odd ``count``).

    A plain rotation (A B C, B C A, C A B) keeps every client's predecessor fixed, and a
    predecessor matters: right after the official sync client's CPU-heavy turn the machine
    ran the next client's RPCs about a third faster (CPU per call included), and with a
    rotation the bare loop always had that place.
    """
    first: list[int] = []
    low, high = 0, count - 1
    for position in range(count):
        if position % 2 == 0:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    orders = [[(c + shift) % count for c in first] for shift in range(count)]
    if count % 2 == 1:
        orders += [list(reversed(order)) for order in orders]
    return orders


def interleave(
    runners: list[Runner], rounds: int, measure: Callable[[Runner], T], warmup: bool = True
) -> dict[str, list[T]]:
    """``measure`` each runner once per round, in :func:`balanced_orders` (so each runner
    follows each other one equally often over a multiple of that many rounds)."""
    if warmup:
        for runner in runners:
            measure(runner)
    results: dict[str, list[T]] = {runner.name: [] for runner in runners}
    orders = balanced_orders(len(runners))
    for round_ in range(rounds):
        for index in orders[round_ % len(orders)]:
            runner = runners[index]
            results[runner.name].append(measure(runner))
    return results


def run_all(
    api_host: str,
    *,
    rounds: int,
    streams: int = 1,
    fragments: int | None = None,
    kinds: tuple[type[Runner], ...] = ALL,
    warmup: bool = True,
) -> dict[str, list[Run]]:
    """Every client of ``kinds`` against ``api_host``, interleaved over ``rounds`` rounds."""
    prompt = burst_prompt(fragments)
    with contextlib.ExitStack() as stack:
        runners: list[Runner] = []
        for kind in kinds:
            runner = kind(api_host)
            stack.callback(runner.close)
            runners.append(runner)
        return interleave(runners, rounds, lambda r: r.stream(streams, prompt), warmup)
