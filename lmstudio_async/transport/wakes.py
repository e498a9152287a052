"""Waking channel consumers once per run of incoming frames, not once per frame.

When a server floods one socket with the frames of many concurrent streams (a
thousand predictions on one client), the reader task receives about one read's
worth of frames per event-loop iteration, which is a frame or two per stream.
Waking every stream's task for each of those costs far more than handling the
frames themselves. So the reader hands the futures of waiting consumers to a
:class:`WakeBatcher`, which sets them once frames stop arriving back to back, or
once the first of them has :data:`ENOUGH_FRAMES` waiting, or after
:data:`MAX_WAKE_DELAY` seconds at most; then each stream wakes to many frames at
once.

Deciding "frames stopped arriving" takes two steps, because of the order in
which asyncio runs callbacks in one iteration: first what was scheduled with
``call_soon`` during the previous one (such as the reader, woken by a read),
then I/O callbacks (a socket read, which wakes the reader for the *next*
iteration), then timers that are due. Step one is a timer, so it runs after
the read of its iteration, and the reader's wake-up is already queued when it
schedules step two with ``call_soon``: in the next iteration the reader handles
that read first, then step two runs. If the reader took no frame in between,
the burst is over and step two wakes everyone. "Took a frame" is read off the
buffer of the first channel that was held back (its consumer is not running, so
only the reader changes it): free for the reader, and on a socket shared by many
streams, frames for one of them keep coming exactly while the burst lasts. On a
quiet socket all this takes two idle iterations (microseconds). With another event
loop that orders callbacks differently, step two may run before the reader:
consumers are then simply woken sooner, as without batching.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["ENOUGH_FRAMES", "MAX_WAKE_DELAY", "WakeBatcher"]

#: The longest a consumer's wake-up is held back while frames keep arriving (seconds).
#: Measured with a thousand streams flooding one socket: each stream then wakes to about
#: 7 frames (1.4 without holding), and the client's CPU per fragment is no higher than for
#: the same streams run one at a time. Only a flood that keeps the client busy is held
#: that long; otherwise a burst ends, and its consumers wake, within two loop iterations.
MAX_WAKE_DELAY = 0.02

#: Once the first held consumer has this many frames waiting, the burst ends for everyone
#: even if frames keep coming: a wake-up (a few microseconds) is then a small part of
#: the work it brings, and few streams sharing a socket get their frames sooner.
ENOUGH_FRAMES = 64


class WakeBatcher:
    """Collects waiting consumers' futures and resolves them when a burst of frames ends."""

    __slots__ = ("_deadline", "_handle", "_loop", "_probe", "_seen", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiters: list[asyncio.Future[None]] = []
        self._handle: asyncio.Handle | None = None
        self._deadline = 0.0
        #: The frame buffer of the first channel held back in this burst, and its length
        #: when last looked at: whether it grew tells whether frames are still coming.
        self._probe: list[Any] = []
        self._seen = 0

    def add(self, waiter: asyncio.Future[None], buffer: list[Any]) -> None:
        """Resolve ``waiter`` at the end of the current burst; ``buffer`` is the frame
        buffer of the waiting channel (which only the reader appends to meanwhile)."""
        self._waiters.append(waiter)
        if self._handle is None:
            loop = self._loop
            now = loop.time()
            self._deadline = now + MAX_WAKE_DELAY
            self._probe = buffer
            self._handle = loop.call_at(now, self._after_reads)

    def _after_reads(self) -> None:
        self._seen = len(self._probe)
        self._handle = self._loop.call_soon(self._after_reader)

    def _after_reader(self) -> None:
        loop = self._loop
        waiting = len(self._probe)
        if waiting != self._seen and waiting < ENOUGH_FRAMES and loop.time() < self._deadline:
            self._handle = loop.call_at(loop.time(), self._after_reads)
        else:
            self._handle = None
            self._probe = []
            self._resolve()

    def flush(self) -> None:
        """Resolve every collected future now (e.g. because the socket is gone)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._probe = []
        self._resolve()

    def _resolve(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
