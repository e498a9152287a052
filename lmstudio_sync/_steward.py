"""Who runs a blocking client's event loop, and in which thread.

A blocking call runs the client's loop in the calling thread itself whenever nobody
else is running it: the call then costs what the async call costs, with no thread
switch either way (on a small machine each switch costs about a third of a whole
round trip to a local server). When the loop is already running in another thread,
or the calling thread runs an event loop of its own (a notebook), the call is
handed to the loop where it runs, and waits for its result as before.

The steward thread runs the loop whenever no caller does and something needs it:
work handed over (calls made while another thread ran the loop), tasks a call
left behind (a cancel still to be sent), and, every few seconds while the client is idle,
a short slice that reads what arrived and answers the server's heartbeats.

Only one thread runs the loop at a time: whoever holds :attr:`LoopSteward.owner`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from lmstudio_async.transport.connection import is_reader_task

try:  # The C functions behind `signal`, without its enum conversions: those cost a fast
    # call several microseconds each (they try, and fail, to turn a handler into an enum).
    from _signal import getsignal as _getsignal  # type: ignore[import-not-found, unused-ignore]
    from _signal import signal as _setsignal  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # another Python implementation
    _getsignal, _setsignal = signal.getsignal, signal.signal

__all__ = ["LoopSteward", "running_loop"]

T = TypeVar("T")

#: How often an idle client's loop gets a slice (seconds): well within the pong timeout of
#: heartbeats (aiohttp's and our server's: 15 s). Not more often: on our 2-core VM the
#: first work after a second of idling ran about 50 times slower (a 40 us slice took
#: 3 ms), so 1 s slices made an idle client spend a quarter of a percent of a core.
SERVICE_INTERVAL = 5.0
#: A slice is this many loop iterations that do not wait: enough to read what arrived,
#: fire due timers and answer pings (read in one iteration, answered in the next). Not a
#: short sleep: on a VM, a 2 ms wait in the loop cost up to 1 ms of CPU.
SERVICE_ITERATIONS = 4
#: How long the steward keeps running the loop for tasks a call left behind, per turn.
BACKGROUND_GRACE = 0.5


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    return asyncio._get_running_loop()  # public in asyncio's __all__; no exception to raise


class LoopSteward:
    """The loop of one blocking client, its owner lock and its steward thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        self.loop = loop
        #: Held by whichever thread runs the loop; re-entrant, because a callback that a
        #: call runs in its own thread may make a blocking call of its own.
        self.owner = threading.RLock()
        self._depth = 0
        self._handed = 0
        self._handed_lock = threading.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self._wake = threading.Event()
        self._stopping = False
        self._last_run = time.monotonic()
        self._serving: asyncio.Task[Any] | None = None
        #: Tasks made on the loop (by its task factory), and how many there were at the
        #: last look for tasks left behind: a call that made none needs no look.
        self._tasks_made = 0
        self._tasks_seen = 0
        self._left_behind = False
        loop.set_task_factory(self._make_task)
        self.thread = threading.Thread(target=self._serve_forever, name=name, daemon=True)
        self.thread.start()

    # --- running the loop in the calling thread ---------------------------------------

    def try_own(self) -> bool:
        """Take the loop for this thread, if it is free (or already this thread's)."""
        if not self.owner.acquire(blocking=False):
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._last_run = time.monotonic()
        self.owner.release()
        if self._depth == 0 and (self._handed or self._maybe_left_behind()):
            self._wake.set()  # work that must go on after this call: the steward takes over

    def run_here(
        self,
        function: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        between: Callable[[], None],
        grace: float,
    ) -> asyncio.Task[T]:
        """Run the loop in this thread (which must own it) until ``function(*args,
        **kwargs)`` is done.

        ``between`` runs whenever the loop stops early (a callback for this thread was
        queued, see ``Portal.callback``). Ctrl-C in the main thread cancels the task and
        lets it finish cancelling (for up to ``grace`` s), then raises
        :class:`KeyboardInterrupt`. Returns the finished task.
        """
        loop = self.loop
        driving = [True]  # cleared if this thread stops waiting before the task ends
        # Not through the loop's task factory: the call's own task is not left behind.
        task = asyncio.Task(_stopping_when_done(function, args, kwargs, driving), loop=loop)
        interrupted: list[asyncio.TimerHandle] = []
        restore = _cancel_on_sigint(task, interrupted, grace)
        try:
            while not task.done():
                loop.run_forever()
                if interrupted:
                    break  # cancelled, and given `grace` s to finish: stop waiting here
                between()
        finally:
            if restore is not None:
                restore()
            for timer in interrupted:
                timer.cancel()
            driving[0] = False  # if left to finish later, it must not stop someone else's run
        if interrupted:
            self._drain_background(grace)
            raise KeyboardInterrupt
        return task

    def _drain_background(self, grace: float) -> None:
        """Let what a cancelled call started (cancel frames) go out before returning."""
        background = self._background_tasks()
        if background:
            self.loop.run_until_complete(asyncio.wait(background, timeout=grace))

    # --- handing work to whoever runs the loop ----------------------------------------

    def hand_over(self, callback: Callable[[], None]) -> None:
        """Schedule ``callback`` on the loop from any thread; the loop will run it soon.

        The work it starts counts as handed over until :meth:`handed_done` (called on
        the loop); the steward runs the loop until none is left.
        """
        with self._handed_lock:
            self._handed += 1
            self._idle.clear()
        self.loop.call_soon_threadsafe(callback)
        self._wake.set()

    def handed_done(self) -> None:
        """One piece of handed-over work finished (called on the loop)."""
        with self._handed_lock:
            self._handed -= 1
            if self._handed == 0:
                self._idle.set()

    # --- the steward thread ------------------------------------------------------------

    def _serve_forever(self) -> None:
        asyncio.set_event_loop(self.loop)
        while not self._stopping:
            woken = self._wake.wait(SERVICE_INTERVAL)
            self._wake.clear()
            if self._stopping:
                break
            if not woken and time.monotonic() - self._last_run < SERVICE_INTERVAL:
                continue  # a caller ran the loop recently
            acquired = (
                self.owner.acquire(timeout=1.0) if woken else self.owner.acquire(blocking=False)
            )
            if not acquired:
                if woken:
                    self._wake.set()  # still wanted: try again
                continue
            try:
                if not self._stopping and not self.loop.is_closed():
                    # Woken for work: serve it and let go at once, so the next call can
                    # run the loop itself. Idle: a slice for heartbeats and timers.
                    self.loop.run_until_complete(self._serve(slice_first=not woken))
            except asyncio.CancelledError:
                pass  # the client is closing: its stop() cancelled everything
            finally:
                self._last_run = time.monotonic()
                self.owner.release()

    def is_serving_task(self, task: asyncio.Task[Any]) -> bool:
        """Whether ``task`` is the steward's own (closing the client leaves it running)."""
        return task is self._serving

    async def _serve(self, slice_first: bool) -> None:
        self._serving = asyncio.current_task()
        try:
            await self._serve_work(slice_first)
        finally:
            self._serving = None

    async def _serve_work(self, slice_first: bool) -> None:
        if slice_first:
            for _ in range(SERVICE_ITERATIONS):
                await asyncio.sleep(0)
        loop = self.loop
        deadline = loop.time() + BACKGROUND_GRACE
        while not self._stopping:
            if self._handed:
                await self._idle.wait()
                continue
            background = self._background_tasks()
            remaining = deadline - loop.time()
            if not background or remaining <= 0:
                return
            await asyncio.wait(background, timeout=remaining)

    def _background_tasks(self) -> list[asyncio.Task[Any]]:
        """Unfinished tasks other than connection readers (and the one asking)."""
        loop = self.loop
        current = asyncio.current_task(loop) if loop.is_running() else None
        return [
            task
            for task in asyncio.all_tasks(loop)
            if task is not current and not task.done() and not is_reader_task(task)
        ]

    def _maybe_left_behind(self) -> bool:
        """Whether unfinished tasks other than readers may remain (only looked for when
        tasks were made since the last look, or that look found some)."""
        made = self._tasks_made
        if made == self._tasks_seen and not self._left_behind:
            return False
        self._tasks_seen = made
        self._left_behind = bool(self._background_tasks())
        return self._left_behind

    def _make_task(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        self._tasks_made += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    def stop(self, timeout: float) -> None:
        """Stop the steward thread (the loop's tasks must be cancelled already)."""
        self._stopping = True
        self._wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)


async def _stopping_when_done(
    function: Callable[..., Awaitable[T]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    driving: list[bool],
) -> T:
    """The call, then stop the loop (in the same iteration: a done callback would cost
    the call another pass of the loop, with its system call)."""
    try:
        return await function(*args, **kwargs)
    finally:
        if driving[0]:
            asyncio.get_running_loop().stop()


def _cancel_on_sigint(
    task: asyncio.Task[Any], interrupted: list[asyncio.TimerHandle], grace: float
) -> Callable[[], None] | None:
    """In the main thread, with Python's default handler in place: make Ctrl-C cancel
    ``task`` (and stop waiting for it after ``grace`` s) instead of raising inside
    whatever loop code happens to run, as asyncio.Runner does. A second Ctrl-C raises
    at once. Returns how to restore the handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if _getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None
    task_ref = weakref.ref(task)

    def on_sigint(signum: int, frame: Any) -> None:
        cancelled = task_ref()
        if interrupted or cancelled is None or cancelled.done():
            raise KeyboardInterrupt
        cancelled.cancel()
        loop = cancelled.get_loop()
        interrupted.append(loop.call_later(grace, loop.stop))  # its end stops the loop sooner

    _setsignal(signal.SIGINT, on_sigint)

    def restore() -> None:
        _setsignal(signal.SIGINT, signal.default_int_handler)

    return restore
