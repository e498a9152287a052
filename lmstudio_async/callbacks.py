"""User callbacks that may be plain functions or coroutine functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Callback", "Callback0", "invoke", "ProgressCallback", "ProgressReporter"]

T = TypeVar("T")

#: A callback taking one value. If it returns an awaitable (an async function), that is
#: awaited; any other return value is ignored (so ``on_message=chat.append`` fits).
Callback = Callable[[T], object]
#: A callback taking no value, with the same rules.
Callback0 = Callable[[], object]
#: Receives progress as a float from 0.0 to 1.0.
ProgressCallback = Callback[float]


async def invoke(callback: Callback[T], value: T) -> None:
    """Call ``callback(value)`` and await its result if it is awaitable."""
    result = callback(value)
    if inspect.isawaitable(result):
        await result


class ProgressReporter:
    """Feeds a progress callback a clean run: non-decreasing values in [0, 1], ending
    with exactly one 1.0, whatever order, repeats or overshoots the server sends.

    Calls are awaited one at a time, in order, so an async callback never runs
    concurrently with itself.
    """

    __slots__ = ("_callback", "_last")

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = -1.0

    async def report(self, progress: float) -> None:
        if self._callback is None or self._last >= 1.0:
            return
        value = min(max(float(progress), 0.0), 1.0)
        if value <= self._last:
            return
        self._last = value
        await invoke(self._callback, value)

    async def finish(self) -> None:
        """Report completion (1.0) unless it was already reported."""
        await self.report(1.0)

    @property
    def started(self) -> bool:
        return self._last >= 0.0
