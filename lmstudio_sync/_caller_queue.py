"""The work queue of a thread making blocking calls: its callbacks, and its wake-ups."""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ._steward import running_loop

__all__ = ["CallerQueue"]


class CallerQueue:
    """Work for one calling thread: callbacks to run, and wake-ups when a call finishes."""

    _local = threading.local()

    def __init__(self) -> None:
        self._items: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread_id = threading.get_ident()

    @classmethod
    def current(cls) -> CallerQueue:
        caller: CallerQueue | None = getattr(cls._local, "queue", None)
        if caller is None:
            caller = cls._local.queue = cls()
        return caller

    def put(self, item: Callable[[], None] | None) -> None:
        self._items.put(item)
        if threading.get_ident() == self._thread_id:
            # Put from the loop running in this very thread (a call running the loop
            # here): stop it, so that the call returns to this thread's work.
            loop = running_loop()
            if loop is not None:
                loop.stop()

    def run_ready(self) -> None:
        """Run whatever is queued now, without waiting."""
        if self._items.empty():
            return
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item()

    def run_until(self, done: concurrent.futures.Future[Any], timeout: float | None = None) -> None:
        """Run queued callbacks until ``done`` completes (or ``timeout`` passes).

        Nested calls (a callback making another blocking call) share the queue; a
        wake-up meant for an outer call is harmless here, since each loop re-checks
        its own future.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.done():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            try:
                item = self._items.get(timeout=remaining)
            except queue.Empty:
                return
            if item is not None:
                item()
