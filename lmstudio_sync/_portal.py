"""The blocking API's bridge to its event loop: blocking calls and streams into it.

Each sync ``Client`` owns a :class:`Portal`: one event loop, and a steward thread
(see :mod:`._steward`) started on first use and stopped by ``close()`` (or at
interpreter exit). A blocking call runs the loop in the calling thread when it is
free; otherwise it hands its coroutine to the loop where it runs and waits for it.
Either way the user's callbacks run in the thread that made the call, never in
another: a call waiting for a handed-over coroutine runs them from its queue, and a
call running the loop itself stops it to run them.

Ctrl-C (``KeyboardInterrupt``) during a call cancels the coroutine, which cancels
its work on the server, gives it a moment to say so, and re-raises.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import inspect
import itertools
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

from lmstudio_async.errors import (
    LMStudioRuntimeError,
    LMStudioValueError,
)
from lmstudio_async.tools.definitions import wrap_tool_implementations
from lmstudio_async.tracebacks import hide_internal_frames

from ._caller_queue import CallerQueue as _CallerQueue
from ._steward import LoopSteward, running_loop

__all__ = ["Portal", "static_portal"]

T = TypeVar("T")

#: How long a cancelled call may take to clean up (tell the server) after Ctrl-C.
CANCEL_GRACE_SECONDS = 5.0
#: How long stopping a loop thread may take.
STOP_TIMEOUT_SECONDS = 10.0

_thread_numbers = itertools.count(1)


class Portal:
    """An event loop running in its own daemon thread, and blocking calls into it."""

    def __init__(self, name: str = "lmstudio-sync") -> None:
        self._name = f"{name}-{next(_thread_numbers)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._steward: LoopSteward | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running" if self._steward else "not started"
        return f"<Portal {self._name} {state}>"

    @property
    def running(self) -> bool:
        return self._steward is not None and self._steward.thread.is_alive()

    @property
    def _thread(self) -> threading.Thread | None:
        """The steward thread (which runs the loop when no calling thread does)."""
        return None if self._steward is None else self._steward.thread

    def _ensure_loop(self) -> LoopSteward:
        steward = self._steward
        if steward is not None and not self._stopped:
            return steward
        with self._lock:
            if self._stopped:
                raise LMStudioRuntimeError("This client is closed; create a new one.")
            if self._steward is None:
                self._loop = asyncio.new_event_loop()
                self._steward = LoopSteward(self._loop, self._name)
                _live_portals.add(self)
            return self._steward

    def _check_caller(self, running: asyncio.AbstractEventLoop | None) -> None:
        if running is not None and running is self._loop:
            raise LMStudioRuntimeError(
                "The blocking API cannot be used from its own event loop thread "
                "(e.g. from an async callback); use lmstudio_async there."
            )

    def call(self, function: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on the loop and wait for its result here."""
        steward = self._ensure_loop()
        running = running_loop()
        self._check_caller(running)
        if running is None and steward.try_own():
            # The loop is free: run it in this thread, no thread switch either way.
            try:
                task = steward.run_here(
                    function,
                    args,
                    kwargs,
                    _CallerQueue.current().run_ready,
                    CANCEL_GRACE_SECONDS,
                )
            finally:
                steward.release()
            if task.cancelled():
                raise concurrent.futures.CancelledError
            error = task.exception()
            if error is not None:
                raise hide_internal_frames(error)
            return task.result()
        return self._call_handed_over(steward, function, args, kwargs)

    def _call_handed_over(
        self,
        steward: LoopSteward,
        function: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        """Run the call on the loop where it runs now (another thread), waiting here."""
        loop = steward.loop
        caller = _CallerQueue.current()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def finished(task: asyncio.Task[T]) -> None:
            steward.handed_done()
            if task.cancelled():
                done.cancel()
            elif (error := task.exception()) is not None:
                done.set_exception(error)
            else:
                done.set_result(task.result())
            caller.put(None)

        def start() -> None:
            task = loop.create_task(_call(function, args, kwargs))
            tasks.append(task)
            task.add_done_callback(finished)

        steward.hand_over(start)
        try:
            caller.run_until(done)
        except KeyboardInterrupt:
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            caller.run_until(done, timeout=CANCEL_GRACE_SECONDS)
            raise
        error = None if done.cancelled() else done.exception()
        if error is not None:
            raise hide_internal_frames(error)
        return done.result()

    def iterate(self, fetch: Callable[[], Awaitable[list[T]]]) -> Iterator[T]:
        """Yield the items of ``fetch()`` batches until one is empty.

        Each batch is one blocking call (see :meth:`call`): it runs the loop in this
        thread when the loop is free, so a stream costs no thread switch at all, and
        crosses threads once per batch when the loop runs elsewhere. As in async
        iteration, nothing is read while this thread is busy with a batch: a thread
        pumping batches ahead (the earlier design) cost more than it saved, since its
        work and this thread's contend for the GIL and bounce the fragments between
        cores. Ctrl-C cancels the fetch in flight; whoever iterates closes the work
        behind ``fetch`` when leaving early.
        """
        while True:
            batch = self.call(fetch)
            if not batch:
                return
            yield from batch

    def callback(
        self, function: Callable[..., object] | None
    ) -> Callable[..., Awaitable[Any]] | None:
        """An async stand-in for a user callback: calling it (on the loop) runs ``function``
        in the thread that is making blocking calls now, waits for it to finish and
        returns its result."""
        if function is None:
            return None
        caller = _CallerQueue.current()

        async def in_caller_thread(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            outcome: asyncio.Future[Any] = loop.create_future()

            def run() -> None:
                try:
                    result = function(*args, **kwargs)
                    if inspect.isawaitable(result):
                        if inspect.iscoroutine(result):
                            result.close()  # never run: don't leave it "never awaited"
                        raise LMStudioValueError(
                            f"{function!r} is an async function; the blocking API calls "
                            "callbacks as plain functions (use lmstudio_async for async ones)."
                        )
                except Exception as error:  # reported to the call that fired the callback
                    loop.call_soon_threadsafe(_settle, outcome, error)
                else:
                    loop.call_soon_threadsafe(_settle, outcome, None, result)

            caller.put(run)
            return await outcome

        return in_caller_thread

    def tools(self, tools: Iterable[Any] | None) -> list[Any] | None:
        """Tool definitions whose implementations run like callbacks: in the calling
        thread, one at a time (async implementations are rejected)."""
        if tools is None:
            return None
        return wrap_tool_implementations(tools, self.callback)

    def stop(self) -> None:
        """Cancel whatever still runs on the loop, stop it and join its thread."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            loop, steward = self._loop, self._steward
        _live_portals.discard(self)
        if loop is None or steward is None:
            return
        if running_loop() is loop:  # dropped from inside its own loop: let it wind down
            steward.stop(timeout=0)
            return
        if running_loop() is None and steward.try_own():
            try:
                with contextlib.suppress(RuntimeError):
                    loop.run_until_complete(_cancel_everything_else(steward))
            finally:
                steward.release()
        else:  # the loop runs in another thread, or cannot run in this one: hand it over
            cancelled: concurrent.futures.Future[None] = concurrent.futures.Future()

            def finished(_task: asyncio.Task[None]) -> None:
                steward.handed_done()
                cancelled.set_result(None)

            def start() -> None:
                loop.create_task(_cancel_everything_else(steward)).add_done_callback(finished)

            steward.hand_over(start)
            with contextlib.suppress(concurrent.futures.TimeoutError):
                cancelled.result(STOP_TIMEOUT_SECONDS)
        steward.stop(STOP_TIMEOUT_SECONDS)
        if not steward.thread.is_alive() and not loop.is_running():
            loop.close()


def _settle(future: asyncio.Future[Any], error: BaseException | None, result: Any = None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


async def _call(
    function: Callable[..., Awaitable[T]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    return await function(*args, **kwargs)


async def _cancel_everything_else(steward: LoopSteward) -> None:
    current = asyncio.current_task()
    others = [
        task
        for task in asyncio.all_tasks()
        if task is not current and not steward.is_serving_task(task)
    ]
    for task in others:
        task.cancel()
    if not others:
        return
    done, _pending = await asyncio.wait(others, timeout=STOP_TIMEOUT_SECONDS)
    for task in done:  # their errors are of no interest now: mark them as seen
        if not task.cancelled():
            task.exception()


_live_portals: weakref.WeakSet[Portal] = weakref.WeakSet()
_static: Portal | None = None
_static_lock = threading.Lock()


def static_portal() -> Portal:
    """A shared portal for calls that belong to no client (e.g. host discovery)."""
    global _static
    with _static_lock:
        if _static is None or _static._stopped:
            _static = Portal("lmstudio-sync-static")
        return _static


@atexit.register
def _stop_all_portals() -> None:
    for portal in list(_live_portals):
        portal.stop()
