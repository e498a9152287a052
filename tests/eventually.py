"""Waiting for something that must happen soon, without betting on how soon.

A fixed ``sleep`` before an assertion races the machine: on a busy CI box the event may
come later. These poll until the condition holds, with a deadline that is only a safety net.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

SAFETY_TIMEOUT = 30.0
_INTERVAL = 0.02


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = SAFETY_TIMEOUT
) -> None:
    """Return once ``condition()`` (plain or async) is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        await asyncio.sleep(_INTERVAL)


def eventually_sync(condition: Callable[[], bool], timeout: float = SAFETY_TIMEOUT) -> None:
    """The blocking form of :func:`eventually`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(_INTERVAL)
