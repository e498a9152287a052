"""Hundreds of predictions in flight over one AsyncClient, with bounded concurrency."""

import asyncio
import time

from lmstudio_async import AsyncClient

PROMPTS = [f"Write one sentence about the number {n}." for n in range(200)]


async def main() -> None:
    async with AsyncClient() as client:
        llm = await client.llm.model("llama-3.2-1b-instruct")
        limit = asyncio.Semaphore(50)  # how many predictions run at once

        async def answer(prompt: str) -> str:
            async with limit:
                return (await llm.respond(prompt, config={"maxTokens": 30})).content

        started = time.perf_counter()
        answers = await asyncio.gather(*(answer(p) for p in PROMPTS))
        elapsed = time.perf_counter() - started
    print(f"{len(answers)} answers in {elapsed:.2f} s")
    print("First:", answers[0])


asyncio.run(main())
