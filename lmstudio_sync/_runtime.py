"""What the generated blocking API runs on: an event loop in a thread, and calls into it.

Each sync ``Client`` owns a :class:`Portal`: one daemon thread running one event
loop, started on first use and stopped by ``close()`` (or at interpreter exit).
A blocking call submits a coroutine to that loop and waits for it in the
calling thread. While it waits, the calling thread also runs the user's
callbacks that the coroutine hands back to it, so callbacks always run in the
thread that made the call, never in the loop thread.

Ctrl-C (``KeyboardInterrupt``) during a wait cancels the coroutine, which
cancels its work on the server, gives it a moment to say so, and re-raises.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import contextlib
import functools
import inspect
import itertools
import queue
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from typing_extensions import Self

from lmstudio_async.errors import (
    LMStudioCancelledError,
    LMStudioRuntimeError,
    LMStudioValueError,
)
from lmstudio_async.tools.definitions import wrap_tool_implementations

__all__ = ["Portal", "SyncTwin", "register_twin", "static_portal"]

T = TypeVar("T")

#: How long a cancelled call may take to clean up (tell the server) after Ctrl-C.
CANCEL_GRACE_SECONDS = 5.0
#: How long stopping a loop thread may take.
STOP_TIMEOUT_SECONDS = 10.0

_thread_numbers = itertools.count(1)


class _CallerQueue:
    """Work for one calling thread: callbacks to run, and wake-ups when a call finishes."""

    _local = threading.local()

    def __init__(self) -> None:
        self._items: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    @classmethod
    def current(cls) -> _CallerQueue:
        caller: _CallerQueue | None = getattr(cls._local, "queue", None)
        if caller is None:
            caller = cls._local.queue = cls()
        return caller

    def put(self, item: Callable[[], None] | None) -> None:
        self._items.put(item)

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

    def run_one(self) -> None:
        """Wait for one queued item and run it."""
        item = self._items.get()
        if item is not None:
            item()


class Portal:
    """An event loop running in its own daemon thread, and blocking calls into it."""

    def __init__(self, name: str = "lmstudio-sync") -> None:
        self._name = f"{name}-{next(_thread_numbers)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running" if self._thread else "not started"
        return f"<Portal {self._name} {state}>"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and not self._stopped:
            return loop
        with self._lock:
            if self._stopped:
                raise LMStudioRuntimeError("This client is closed; create a new one.")
            if self._loop is None:
                started = threading.Event()
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self._run, args=(loop, started), name=self._name, daemon=True
                )
                thread.start()
                started.wait()
                self._thread = thread
                self._loop = loop
                _live_portals.add(self)
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        loop.run_forever()

    def _check_caller(self) -> None:
        if self._thread is not None and threading.current_thread() is self._thread:
            raise LMStudioRuntimeError(
                "The blocking API cannot be used from its own event loop thread "
                "(e.g. from an async callback); use lmstudio_async there."
            )

    def call(self, function: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on the loop and wait for its result here."""
        self._check_caller()
        loop = self._ensure_loop()
        caller = _CallerQueue.current()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        tasks: list[asyncio.Task[T]] = []

        def finished(task: asyncio.Task[T]) -> None:
            if task.cancelled():
                done.cancel()
            elif (error := task.exception()) is not None:
                done.set_exception(error)
            else:
                done.set_result(task.result())
            caller.put(None)

        def start() -> None:
            try:
                task = loop.create_task(_as_coroutine(function(*args, **kwargs)))
            except BaseException as error:  # the call itself failed before awaiting
                done.set_exception(error)
                caller.put(None)
                return
            tasks.append(task)
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            caller.run_until(done)
        except KeyboardInterrupt:
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            caller.run_until(done, timeout=CANCEL_GRACE_SECONDS)
            raise
        return done.result()

    def iterate(self, fetch: Callable[[], Awaitable[list[T]]]) -> Iterator[T]:
        """Yield the items of ``fetch()`` batches until one is empty.

        A task on the loop fetches batch after batch and hands each to this thread
        through its queue (in order with any callbacks), so the cost of crossing
        threads is paid per batch, and batches are fetched while this thread is
        still busy with the previous one. Leaving early, or Ctrl-C, cancels that
        task, and with it the work behind ``fetch``.
        """
        self._check_caller()
        loop = self._ensure_loop()
        caller = _CallerQueue.current()
        # Batches, the end ([]) and failures all come through the caller's queue, in order:
        # nothing may overtake a batch still waiting there.
        batches: collections.deque[list[T]] = collections.deque()
        failures: list[BaseException] = []
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        tasks: list[asyncio.Task[None]] = []

        async def pump() -> None:
            while True:
                batch = await fetch()
                caller.put(functools.partial(batches.append, batch))
                if not batch:
                    return

        def finished(task: asyncio.Task[None]) -> None:
            if task.cancelled():
                failure: BaseException | None = LMStudioCancelledError(
                    "The stream was cancelled (its client was closed?)."
                )
            else:
                failure = task.exception()
            if failure is not None:
                caller.put(functools.partial(failures.append, failure))
            done.set_result(None)
            caller.put(None)

        def start() -> None:
            task = loop.create_task(pump())
            tasks.append(task)
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            while True:
                while not batches and not failures:
                    caller.run_one()
                if not batches:
                    raise failures[0]
                batch = batches.popleft()
                if not batch:
                    return
                yield from batch
        except BaseException as exc:
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            if isinstance(exc, KeyboardInterrupt):
                caller.run_until(done, timeout=CANCEL_GRACE_SECONDS)
            raise

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
            loop, thread = self._loop, self._thread
        _live_portals.discard(self)
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:  # dropped from inside its own loop
            loop.call_soon(loop.stop)
            return
        future = asyncio.run_coroutine_threadsafe(_cancel_everything_else(), loop)
        with contextlib.suppress(concurrent.futures.TimeoutError, asyncio.CancelledError):
            future.result(STOP_TIMEOUT_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_SECONDS)
        if not thread.is_alive():
            loop.close()


def _settle(future: asyncio.Future[Any], error: BaseException | None, result: Any = None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _cancel_everything_else() -> None:
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


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


class SyncTwin:
    """Base of every generated blocking class: a wrapper around its async twin.

    Every twin holds the ``Client`` it came from, so a handle keeps its client
    (and the client's event loop thread) alive, as async handles do.
    """

    __slots__ = ("__weakref__", "_async", "_portal", "_root")

    _async_type: ClassVar[type]
    _async: Any
    _portal: Portal
    _root: RootTwin

    @classmethod
    def _wrap_async(cls: type[T], root: RootTwin, value: Any) -> T:
        twin = object.__new__(cls)
        twin._root = root  # type: ignore[attr-defined]
        twin._portal = root._portal  # type: ignore[attr-defined]
        twin._async = value  # type: ignore[attr-defined]
        return twin

    def _wrap(self, value: Any) -> Any:
        """Turn async API objects in a result into their blocking twins."""
        return wrap(self._root, value)

    def __repr__(self) -> str:
        text = repr(self._async)
        return text.replace(type(self._async).__name__, type(self).__name__, 1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SyncTwin) and self._async == other._async

    def __hash__(self) -> int:
        return hash(self._async)


_twins: dict[type, type[SyncTwin]] = {}


def register_twin(sync_type: type[SyncTwin]) -> None:
    _twins[sync_type._async_type] = sync_type


def wrap(root: RootTwin, value: Any) -> Any:
    twin = _twins.get(type(value))
    if twin is not None:
        return twin._wrap_async(root, value)
    if type(value) is list:
        return [wrap(root, item) for item in value]
    if type(value) is tuple:
        return tuple(wrap(root, item) for item in value)
    return value


@atexit.register
def _stop_all_portals() -> None:
    for portal in list(_live_portals):
        portal.stop()


class RootTwin(SyncTwin):
    """Base of the generated ``Client``: owns the portal that every object it returns uses.

    Closing happens once: on ``close()``, on ``with`` exit, when the client is
    garbage collected, or at interpreter exit, whichever comes first.
    """

    __slots__ = ("_finalizer",)

    def _attach(self, async_client: Any) -> None:
        self._portal = Portal()
        self._async = async_client
        self._finalizer = weakref.finalize(self, _close_root, self._portal, async_client)

    def _wrap(self, value: Any) -> Any:
        return wrap(self, value)

    def close(self) -> None:
        """Close every socket, then stop the client's event loop thread. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _close_root(portal: Portal, async_client: Any) -> None:
    try:
        if portal.running and threading.current_thread() is not portal._thread:
            portal.call(async_client.aclose)
    finally:
        portal.stop()
