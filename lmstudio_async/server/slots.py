"""Parallel prediction slots of an LLM instance (LM Studio's ``maxParallelPredictions``).

An instance runs at most ``limit`` predictions at once; further ones wait in
arrival order, as they do in LM Studio, and ``getInstanceProcessingState``
reports how many wait. The limit is the load config's
``llm.load.numParallelSessions`` (PROTOCOL.md 7.5, int 1..1023), capped by what
the engine can actually run at once, and the capped value is what the instance
reports back in its load config, so that a client can count its free slots.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

from .api import ServerError

__all__ = ["PARALLEL_KEY", "MAX_PARALLEL", "PredictionSlots", "parallel_limit"]

PARALLEL_KEY = "llm.load.numParallelSessions"
MAX_PARALLEL = 1023


def parallel_limit(values: Mapping[str, Any], engine_limit: int | None) -> int:
    """The validated limit of an LLM load config, capped by the engine's own."""
    value = values.get(PARALLEL_KEY, 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PARALLEL:
        raise ServerError(
            f"Invalid number of parallel predictions {value!r}",
            cause=f"{PARALLEL_KEY} must be an integer from 1 to {MAX_PARALLEL}.",
        )
    return value if engine_limit is None else min(value, engine_limit)


class PredictionSlots:
    """A first-come, first-served gate admitting ``limit`` predictions at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def running(self) -> int:
        return self._running

    @property
    def queued(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Wait for a slot (in arrival order) and keep it while the block runs."""
        if self._running < self.limit and not self._waiters:
            self._running += 1
        else:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # granted: the releasing prediction handed its slot over
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # granted just as this request was cancelled
                else:
                    with suppress(ValueError):  # a release may have dropped it already
                        self._waiters.remove(waiter)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._running -= 1
