"""Running a batch: a bounded window over the inputs, retries, and results as they complete.

Inputs are pulled from their (possibly endless) iterator only when the window
has room, so memory holds the window's items and the results, never the whole
input. A result counts against the window until the consumer takes it, so a
slow consumer of :class:`AsyncBatchResults` slows the pulling down instead of
piling results up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

from typing_extensions import Self

from ..callbacks import Callback, invoke
from ..errors import LMStudioError, LMStudioValueError
from ..prediction import PredictionResult
from .results import BatchResult
from .retry import RetryPolicy, is_transient

__all__ = [
    "AsyncBatchResults",
    "Attempt",
    "ItemRunner",
    "check_inputs",
    "check_concurrency",
    "collect",
]

ItemT = TypeVar("ItemT")
ItemT_contra = TypeVar("ItemT_contra", contravariant=True)

#: How often one item may be moved off a host that went away, on top of its retries.
MAX_RELOCATIONS = 8


@dataclass
class Attempt:
    """One attempt at one item; the runner records where it went and how it failed."""

    index: int
    number: int
    host: str | None = None
    #: Set by a runner whose host went away: the item simply runs elsewhere (not a retry).
    moved: bool = False


class ItemRunner(Protocol[ItemT_contra]):
    """Runs one attempt of one item (a single handle, or a pool of hosts)."""

    async def run(self, item: ItemT_contra, attempt: Attempt) -> PredictionResult: ...


def check_concurrency(concurrency: int) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise LMStudioValueError(f"concurrency must be a positive integer, not {concurrency!r}.")
    return concurrency


def check_inputs(inputs: object, what: str) -> None:
    """Refuse a single input where an iterable of them is expected."""
    from ..chat import Chat

    if isinstance(inputs, (str, bytes, dict, Chat)):
        raise LMStudioValueError(
            f"{what} takes an iterable of inputs (e.g. a list of prompts), not one "
            f"{type(inputs).__name__}; wrap it in a list, or use the single-input method."
        )
    if not isinstance(inputs, (Iterable, AsyncIterable)):
        raise LMStudioValueError(
            f"{what} takes an iterable or async iterable of inputs, not {type(inputs).__name__}."
        )


async def _pull(source: Iterable[ItemT] | AsyncIterable[ItemT]) -> AsyncGenerator[ItemT, None]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        iterator: Iterator[ItemT] = iter(source)
        for item in iterator:
            yield item


class AsyncBatchResults:
    """A running batch: ``async for result in results`` yields each :class:`BatchResult` as it
    completes (not in input order; see ``result.index``).

    It starts on first use. Leaving the loop early, :meth:`aclose` or ``async with``
    exit cancels every prediction still in flight, on the server too.
    """

    def __init__(
        self,
        inputs: Iterable[Any] | AsyncIterable[Any],
        runner: ItemRunner[Any],
        *,
        window: int,
        retry: RetryPolicy,
        on_result: Callback[BatchResult] | None = None,
    ) -> None:
        self._source = _pull(inputs)
        self._runner = runner
        self._window = asyncio.Semaphore(window)
        self._retry = retry
        self._on_result = on_result
        self._driver: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready: list[BatchResult] = []
        self._wakeup = asyncio.Event()
        self._fed_all = False
        self._failure: BaseException | None = None
        self._closed = False
        self._pulled = 0
        self._completed = 0

    def __repr__(self) -> str:
        return (
            f"<AsyncBatchResults pulled={self._pulled} completed={self._completed} "
            f"in_flight={len(self._tasks)}>"
        )

    @property
    def pulled(self) -> int:
        """How many inputs were taken from the input iterable so far."""
        return self._pulled

    @property
    def completed(self) -> int:
        """How many results the consumer has received so far."""
        return self._completed

    @property
    def in_flight(self) -> int:
        """Items being predicted (or waiting to retry) right now."""
        return len(self._tasks)

    # --- lifecycle ----------------------------------------------------------------------

    def _start(self) -> None:
        if self._driver is None and not self._closed:
            self._driver = asyncio.get_running_loop().create_task(
                self._drive(), name="lmstudio-async batch"
            )

    async def __aenter__(self) -> Self:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel every prediction still in flight and wait until they have stopped."""
        tasks = self._abandon()
        with suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        with suppress(Exception):
            await self._source.aclose()

    def _abandon(self) -> list[asyncio.Task[None]]:
        self._closed = True
        tasks = [*self._tasks, *([self._driver] if self._driver is not None else [])]
        for task in tasks:
            task.cancel()
        return tasks

    # --- consuming ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self._results()

    async def _results(self) -> AsyncIterator[BatchResult]:
        try:
            while batch := await self.next_batch():
                for result in batch:
                    yield result
        except GeneratorExit:  # left early: break, exception or aclose()
            self._abandon()
            raise

    async def next_batch(self) -> list[BatchResult]:
        """Every result completed since the last call, waiting for at least one; ``[]`` once
        every input has its result. ``on_result`` sees each result before it is returned."""
        if self._closed and not self._ready:
            return []
        self._start()
        try:
            while not self._ready:
                if self._failure is not None:
                    raise self._failure
                if self._fed_all and not self._tasks:
                    self._closed = True
                    return []
                self._wakeup.clear()
                await self._wakeup.wait()
        except BaseException:
            await self.aclose()
            raise
        batch, self._ready = self._ready, []
        for _ in batch:
            self._window.release()
        self._completed += len(batch)
        if self._on_result is not None:
            for result in batch:
                await invoke(self._on_result, result)
        return batch

    # --- running ------------------------------------------------------------------------

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        index = 0
        try:
            while True:
                await self._window.acquire()
                try:
                    item = await self._source.__anext__()
                except StopAsyncIteration:
                    break
                self._pulled += 1
                task = loop.create_task(self._run_item(index, item))
                self._tasks.add(task)
                task.add_done_callback(self._finished)
                index += 1
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the input iterable itself failed
            self._failure = exc
        finally:
            self._fed_all = True
            self._wakeup.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._failure = self._failure or error
        self._wakeup.set()

    async def _run_item(self, index: int, item: Any) -> None:
        result = await self._attempts(index, item)
        self._ready.append(result)  # not before the await: next_batch swaps the list
        self._wakeup.set()

    async def _attempts(self, index: int, item: Any) -> BatchResult:
        retries = relocations = 0
        number = 0
        while True:
            number += 1
            attempt = Attempt(index, number)
            try:
                result = await self._runner.run(item, attempt)
            except (LMStudioError, ValueError, TypeError) as exc:
                error = _as_lmstudio_error(exc, index)
                if attempt.moved and relocations < MAX_RELOCATIONS:
                    relocations += 1
                    continue
                if retries < self._retry.max_retries and is_transient(error):
                    retries += 1
                    await asyncio.sleep(self._retry.delay(retries))
                    continue
                return BatchResult(index, False, None, error, number, attempt.host)
            return BatchResult(index, True, result, None, number, attempt.host)


def _as_lmstudio_error(error: BaseException, index: int) -> LMStudioError:
    if isinstance(error, LMStudioError):
        return error
    # A malformed input that the request builders did not recognise as such.
    converted = LMStudioValueError(f"Input {index} is not valid: {error}")
    converted.__cause__ = error
    return converted


async def collect(results: AsyncBatchResults) -> list[BatchResult]:
    """Run ``results`` to the end; the list is in input order."""
    collected: list[BatchResult] = []
    async with results:
        while batch := await results.next_batch():
            collected.extend(batch)
    collected.sort(key=lambda result: result.index)
    return collected
