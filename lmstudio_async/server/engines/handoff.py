"""Handing generated text from a worker thread to the event loop, in batches.

The worker never waits for the loop: :meth:`TextHandoff.put` appends under a
lock and wakes the loop only when it is waiting for text. After taking text,
the loop lets ``interval`` seconds pass before it takes more, so a fast model's
tokens travel in groups: fewer wake-ups and packets, each costing the server
and the client CPU time that the model's threads would otherwise get. The
first text and the end of the generation are handed over at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator

from .base import GeneratedPiece

__all__ = ["TextHandoff"]

#: At most this many hand-overs (so fragments) per second; 50 looks continuous to a reader.
DEFAULT_INTERVAL = 0.02


class TextHandoff:
    """One-way text channel from one producer thread to one consumer on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = DEFAULT_INTERVAL) -> None:
        self._loop = loop
        self._interval = interval
        self._lock = threading.Lock()
        self._texts: list[str] = []
        self._tokens = 0
        self._finished = False
        self._error: BaseException | None = None
        #: The consumer waits on ``_ready`` (rather than sleeping or working).
        self._waiting = True
        self._ready = asyncio.Event()

    # -- producer (worker thread) ----------------------------------------------------------

    def put(self, text: str, tokens: int) -> None:
        with self._lock:
            self._texts.append(text)
            self._tokens += tokens
            wake, self._waiting = self._waiting, False
        if wake:
            self._loop.call_soon_threadsafe(self._ready.set)

    def finish(self, error: BaseException | None = None) -> None:
        """No more text; ``error`` is raised to the consumer after what was put."""
        with self._lock:
            self._finished = True
            self._error = error
            self._waiting = False
        self._loop.call_soon_threadsafe(self._ready.set)

    # -- consumer (event loop) -------------------------------------------------------------

    def _take(self) -> tuple[GeneratedPiece | None, bool]:
        """What was put since the last take, and whether the producer finished."""
        with self._lock:
            texts, self._texts = self._texts, []
            tokens, self._tokens = self._tokens, 0
            finished = self._finished
            # Nothing to take: the next put has to wake the consumer.
            self._waiting = not texts and not finished
        piece = GeneratedPiece("".join(texts), tokens) if texts else None
        return piece, finished

    async def pieces(self) -> AsyncGenerator[GeneratedPiece, None]:
        while True:
            piece, finished = self._take()
            if piece is None and not finished:
                self._ready.clear()
                await self._ready.wait()
                piece, finished = self._take()
            if piece is not None:
                yield piece
            if finished:
                if self._error is not None:
                    raise self._error
                return
            if piece is not None:
                await asyncio.sleep(self._interval)
