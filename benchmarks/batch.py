"""``python -m benchmarks.batch``: batch throughput, recorded in benchmarks/README.md.

1. ``respond_batch`` against a hand-written semaphore-and-gather loop over the same client,
   on many short predictions (scripted engine, no delay: the client is the bottleneck).
2. A ``ClientPool`` over 1, 2 and 3 local servers whose scripted engine waits between tokens,
   so that the servers' parallel slots, not the client, bound the rate.

Rounds interleave the contenders (alternating who goes first); the tables give the median
items/s and the spread (lowest to highest) over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack

from lmstudio_async import AsyncClient, AsyncClientPool, AsyncLLM, AsyncPooledLLM
from lmstudio_async.testing import ServerProcess

from .report import README, machine

MODEL = "llama-3.2-1b-instruct"
BEGIN, END = "<!-- batch:begin -->", "<!-- batch:end -->"
CONFIG = {"maxTokens": 8}


async def _rate(run: Callable[[], Awaitable[int]]) -> float:
    started = time.perf_counter()
    count = await run()
    return count / (time.perf_counter() - started)


def _prompts(count: int) -> list[str]:
    return [f"Short question {i}?" for i in range(count)]


async def gather_loop(llm: AsyncLLM, prompts: list[str], concurrency: int) -> int:
    """What users write today (see examples/concurrent_batch.py)."""
    limit = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> str:
        async with limit:
            return (await llm.respond(prompt, config=CONFIG)).content

    return len(await asyncio.gather(*(one(p) for p in prompts)))


async def batch_call(llm: AsyncLLM, prompts: list[str], concurrency: int) -> int:
    results = await llm.respond_batch(prompts, concurrency=concurrency, config=CONFIG)
    assert all(r.ok for r in results)
    return len(results)


async def compare_with_gather(
    api_host: str, items: int, concurrency: int, rounds: int
) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"respond_batch": [], "semaphore + gather": []}
    async with AsyncClient(api_host) as client:
        llm = await client.llm.model(MODEL, config={"maxParallelPredictions": concurrency})
        prompts = _prompts(items)
        await batch_call(llm, prompts[:100], concurrency)  # warm up both paths
        await gather_loop(llm, prompts[:100], concurrency)
        for round_number in range(rounds):
            contenders = [
                ("respond_batch", lambda: batch_call(llm, prompts, concurrency)),
                ("semaphore + gather", lambda: gather_loop(llm, prompts, concurrency)),
            ]
            if round_number % 2:
                contenders.reverse()
            for name, run in contenders:
                rates[name].append(await _rate(run))
    return rates


async def pooled_batch(llm: AsyncPooledLLM, items: int) -> int:
    results = await llm.respond_batch(_prompts(items), config=CONFIG)
    assert all(r.ok for r in results)
    return len(results)


async def pool_scaling(hosts: list[str], items: int, rounds: int) -> dict[int, list[float]]:
    rates: dict[int, list[float]] = {n: [] for n in range(1, len(hosts) + 1)}
    for round_number in range(rounds):
        sizes = list(rates)
        if round_number % 2:
            sizes.reverse()
        for size in sizes:
            async with AsyncClientPool(hosts[:size]) as pool:
                llm = await pool.llm.model(MODEL)
                rates[size].append(await _rate(functools.partial(pooled_batch, llm, items)))
    return rates


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f} to {max(values):,.1f})"


def gather_table(rates: dict[str, list[float]]) -> str:
    base = statistics.median(rates["semaphore + gather"])
    lines = [
        f"| loop | items/s, median (spread) over {len(rates['respond_batch'])} rounds "
        "| vs semaphore + gather |",
        "|---|---:|---:|",
    ]
    for name, values in rates.items():
        lines.append(f"| {name} | {_cell(values)} | {statistics.median(values) / base:.2f}x |")
    return "\n".join(lines)


def scaling_table(rates: dict[int, list[float]]) -> str:
    base = statistics.median(rates[1])
    lines = [
        f"| servers in the pool | items/s, median (spread) over {len(rates[1])} rounds "
        "| vs one server |",
        "|---:|---:|---:|",
    ]
    for size, values in rates.items():
        lines.append(f"| {size} | {_cell(values)} | {statistics.median(values) / base:.2f}x |")
    return "\n".join(lines)


def write(sections: list[str]) -> None:
    text = README.read_text()
    body = "\n\n".join([f"Last run: {machine()}.", *sections])
    block = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        README.write_text(f"{head}{block}{tail}")
    else:
        README.write_text(f"{text.rstrip()}\n\n## Batch jobs\n\n{block}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000, help="predictions per batch")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pool-items", type=int, default=240, help="predictions per pool run")
    parser.add_argument("--token-delay", type=float, default=0.01, help="pool servers, seconds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md")
    args = parser.parse_args()

    with ServerProcess("--token-delay", "0", "--reply-tokens", "8:8") as server:
        versus = asyncio.run(
            compare_with_gather(server.api_host, args.items, args.concurrency, args.rounds)
        )
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                ServerProcess("--token-delay", str(args.token_delay), "--reply-tokens", "8:8")
            )
            for _ in range(3)
        ]
        scaling = asyncio.run(
            pool_scaling([s.api_host for s in servers], args.pool_items, args.rounds)
        )
    sections = [
        f"### {args.items:,} short predictions over one client, {args.concurrency} at a time "
        "(scripted engine, no delay)\n\n" + gather_table(versus),
        f"### A ClientPool over 1 to 3 local servers ({args.pool_items} predictions of 8 "
        f"tokens, {args.token_delay * 1000:g} ms per token, 4 parallel slots per server)\n\n"
        + scaling_table(scaling),
    ]
    for section in sections:
        print(section, end="\n\n")
    if not args.no_write:
        write(sections)


if __name__ == "__main__":
    main()
