"""The RPCs of one socket that wait for their answers, and their deadlines.

A timer per call (armed, then cancelled when the answer comes) was a fifth of the
client's own work for a small RPC. Instead one timer per socket is armed for the
earliest deadline; calls that end early leave it as it is. When it fires, it fails
the calls that are overdue and re-arms itself for the earliest deadline left. With
one timeout for every call (the usual case) it is armed once per timeout period,
not once per call.
"""

from __future__ import annotations

import asyncio
import contextvars
import math

from ..errors import LMStudioTimeoutError
from ..protocol import Raw

__all__ = ["PendingCalls"]

# Timers may fire up to the clock's resolution early; a millisecond is plenty.
_EARLY = 1e-3


class PendingCalls:
    """``call id -> (future, endpoint, deadline, timeout)`` of the calls not answered yet."""

    __slots__ = ("_calls", "_context", "_loop", "_namespace", "_watch", "_watch_at")

    def __init__(self, namespace: str, context: contextvars.Context) -> None:
        self._namespace = namespace
        #: An empty context for the timer (``call_at`` would copy the caller's).
        self._context = context
        self._calls: dict[int, tuple[asyncio.Future[Raw], str, float, float]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._watch_at = math.inf

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call_id: int, future: asyncio.Future[Raw], endpoint: str) -> None:
        """A call about to be sent (its deadline starts once it is: :meth:`start_clock`)."""
        self._calls[call_id] = (future, endpoint, math.inf, math.inf)

    def start_clock(self, call_id: int, timeout: float) -> None:
        """The call was sent: it fails with :class:`LMStudioTimeoutError` unless answered
        within ``timeout`` s."""
        pending = self._calls.get(call_id)
        if pending is None or math.isinf(timeout):
            return
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._calls[call_id] = (pending[0], pending[1], deadline, timeout)
        if deadline < self._watch_at:
            self._arm(loop, deadline)

    def pop(self, call_id: int) -> tuple[asyncio.Future[Raw], str] | None:
        """The call's future and endpoint, forgotten here (``None`` if not pending)."""
        pending = self._calls.pop(call_id, None)
        return None if pending is None else (pending[0], pending[1])

    def fail_all(self, error: BaseException) -> None:
        """Fail every pending call with ``error`` (the socket is gone)."""
        calls, self._calls = self._calls, {}
        self._disarm()
        for future, _endpoint, _deadline, _timeout in calls.values():
            if not future.done():
                future.set_exception(error)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        self._disarm()
        self._watch_at = when
        self._watch = loop.call_at(when, self._expire, context=self._context)

    def _disarm(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self._watch_at = math.inf

    def _expire(self) -> None:
        self._watch = None
        self._watch_at = math.inf
        loop = self._loop
        assert loop is not None
        now = loop.time()
        earliest = math.inf
        for future, endpoint, deadline, timeout in list(self._calls.values()):
            if future.done():
                continue
            if deadline <= now + _EARLY:
                future.set_exception(
                    LMStudioTimeoutError(
                        f"LM Studio did not answer {self._namespace}/{endpoint} within "
                        f"{timeout:g} s. The server may be busy or stuck; raise `timeout` "
                        "if this is expected."
                    )
                )
            elif deadline < earliest:
                earliest = deadline
        if earliest != math.inf:
            self._arm(loop, earliest)
