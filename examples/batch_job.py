"""A batch job: many chats in one call, per-item errors, progress, and a pool of hosts."""

import asyncio
import os

from lmstudio_async import AsyncClient, AsyncClientPool, BatchResult

QUESTIONS = [f"Name one use of the number {n}." for n in range(100)]


def progress(result: BatchResult) -> None:
    if (result.index + 1) % 25 == 0:
        print(f"  item {result.index} done on {result.host} after {result.attempts} attempt(s)")


async def main() -> None:
    async with AsyncClient() as client:
        llm = await client.llm.model("llama-3.2-1b-instruct")
        # One call; results in input order. A bad item fails alone, with its error.
        inputs = [*QUESTIONS, {"messages": "not a chat"}]
        results = await llm.respond_batch(
            inputs, concurrency=16, config={"maxTokens": 20}, on_result=progress
        )
        failed = [r for r in results if not r.ok]
        print(f"{len(results) - len(failed)} answers, {len(failed)} failed")
        print(f"Item {failed[0].index} failed: {type(failed[0].error).__name__}")
        print("First answer:", results[0].content)

        # Results as they complete, from a generator: only the window is held in memory.
        fastest = [r.index async for r in llm.complete_as_completed(f"{n} +" for n in range(10))]
        print(f"Completed {len(fastest)} completions as they finished")

    # Several LM Studio servers as one: each gets as much work as its free slots allow.
    hosts = [os.environ.get("LM_API_HOST", "localhost:1234")]
    async with AsyncClientPool(hosts) as pool:
        pooled = await pool.llm.model("llama-3.2-1b-instruct")
        results = await pooled.respond_batch(QUESTIONS[:20], config={"maxTokens": 10})
        print(
            f"Pool of {len(pooled.hosts)} host(s), {pooled.capacity} slots: {len(results)} answers"
        )


asyncio.run(main())
