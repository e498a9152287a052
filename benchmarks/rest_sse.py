"""One long streamed chat completion over ``/v1/chat/completions`` (SSE), read three ways.

``python -m benchmarks.rest_sse`` starts the local server (scripted engine, zero
token delay) in its own process and streams the same ``--tokens``-token reply,
round after round, interleaving:

- the ``openai`` client (``AsyncOpenAI``, ``stream=True``);
- a bare aiohttp SSE reader (split lines, decode each ``data:`` with msgspec);
- our ``AsyncClient`` over the websocket API (``respond_stream``), the same prediction.

Per run it records chunks (SSE events with text, or websocket fragments), wall
time, and the server process's CPU time (from ``/proc``), then reports medians and
spread over the rounds after one untimed warm-up each. Results go to the REST
block of ``benchmarks/README.md`` unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import msgspec
import openai

from lmstudio_async import AsyncClient
from lmstudio_async.testing import ServerProcess

from .report import README, machine

MODEL = "llama-3.2-1b-instruct"
PROMPT = "Write a very long story."
BEGIN, END = "<!-- rest-results:begin -->", "<!-- rest-results:end -->"
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass(frozen=True)
class Run:
    chunks: int
    seconds: float
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds


class Readers:
    def __init__(self, api_host: str) -> None:
        self.api_host = api_host
        self.url = f"http://{api_host}/v1/chat/completions"
        self._body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
        }

    async def openai_client(self, client: openai.AsyncOpenAI) -> int:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        count = 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count

    async def bare_sse(self, session: aiohttp.ClientSession) -> int:
        decode = msgspec.json.decode
        count = 0
        async with session.post(self.url, json=self._body) as response:
            async for line in response.content:
                if line.startswith(b"data: {"):
                    choices = decode(line[6:])["choices"]
                    if choices and choices[0]["delta"].get("content"):
                        count += 1
        return count

    async def websocket(self, client: AsyncClient) -> int:
        llm = await client.llm.model(MODEL)
        count = 0
        async for _fragment in llm.respond_stream(PROMPT):
            count += 1
        return count


async def _timed(pid: int, read: Callable[[], Awaitable[int]]) -> Run:
    server0, client0, wall0 = server_cpu_seconds(pid), time.process_time(), time.perf_counter()
    chunks = await read()
    wall = time.perf_counter() - wall0
    return Run(chunks, wall, server_cpu_seconds(pid) - server0, time.process_time() - client0)


async def run_rounds(server: ServerProcess, rounds: int) -> dict[str, list[Run]]:
    readers = Readers(server.api_host)
    oai = openai.AsyncOpenAI(
        base_url=f"http://{server.api_host}/v1", api_key="lm-studio", max_retries=0
    )
    results: dict[str, list[Run]] = {}
    try:
        async with aiohttp.ClientSession() as session, AsyncClient(server.api_host) as client:
            paths: dict[str, Callable[[], Awaitable[int]]] = {
                "openai client over SSE": lambda: readers.openai_client(oai),
                "bare aiohttp SSE reader": lambda: readers.bare_sse(session),
                "lmstudio-async AsyncClient over websocket": lambda: readers.websocket(client),
            }
            for read in paths.values():  # warm-up: JIT load, connections, caches
                await read()
            for _ in range(rounds):
                for name, read in paths.items():
                    results.setdefault(name, []).append(await _timed(server.pid, read))
    finally:
        await oai.close()
    return results


def _spread(values: list[float]) -> str:
    return f"{min(values):,.0f} to {max(values):,.0f}"


def table(results: dict[str, list[Run]]) -> str:
    rounds = len(next(iter(results.values())))
    lines = [
        f"| reader | chunks/s (median of {rounds}) | range | server CPU µs/chunk (median) "
        "| server CPU share | client CPU µs/chunk (median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        rates = [run.rate for run in runs]
        server_us = statistics.median(run.server_cpu / run.chunks * 1e6 for run in runs)
        share = statistics.median(run.server_cpu / run.seconds for run in runs)
        client_us = statistics.median(run.client_cpu / run.chunks * 1e6 for run in runs)
        lines.append(
            f"| {name} | {statistics.median(rates):,.0f} | {_spread(rates)} "
            f"| {server_us:.1f} | {share:.0%} | {client_us:.1f} |"
        )
    return "\n".join(lines)


def write(section: str) -> None:
    text = README.read_text()
    if BEGIN not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n{section}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000, help="length of the reply")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per reader")
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md")
    args = parser.parse_args()
    with ServerProcess(
        "--token-delay", "0", "--reply-tokens", f"{args.tokens}:{args.tokens}", "--load-time", "0"
    ) as server:
        results = asyncio.run(run_rounds(server, args.rounds))
    section = (
        f"Last run: {machine()}. One {args.tokens:,}-token streamed reply (scripted engine, "
        f"zero delay), {args.rounds} interleaved rounds after a warm-up.\n\n" + table(results)
    )
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
