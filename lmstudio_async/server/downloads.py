"""Carrying out a model download: real byte copies, or simulated ones.

- llama-cpp engine with a models directory: the hub file (and its vision
  projector) is copied into ``<models-dir>/<publisher>/<repository>/`` in 1 MiB
  chunks, each reported as progress. It is written under a hidden ``.part``
  name and renamed into place only when complete, so a partial download is
  never listed as a model; a failed or cancelled download deletes what it
  wrote. The engine lists the new model on its next directory scan, i.e. at once.
- scripted engine: no bytes move; progress is simulated over the file's size
  and the model joins the engine's catalog when the download succeeds.

``ServerConfig.download_speed`` caps the rate in bytes/second (default: as fast
as the disk allows; simulated downloads then take :data:`SIMULATED_SECONDS`).
The ``download-fail-at`` fault makes a download fail once that fraction of its
bytes arrived, for testing clients' error paths.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

import anyio

from .api import ServerError
from .hub import HubFile

__all__ = ["CHUNK_BYTES", "SIMULATED_SECONDS", "Progress", "copy_hub_file", "simulate_download"]

CHUNK_BYTES = 1024 * 1024
SIMULATED_SECONDS = 0.4
_SIMULATED_STEPS = 40
#: Send a progress packet when at least this share of the total arrived since the last one.
_REPORT_EVERY = 0.01

#: Receives (downloaded bytes, total bytes, bytes per second).
Progress = Callable[[int, int, float], Awaitable[None]]


class _Meter:
    """Turns transferred bytes into throttled progress reports, and applies the faults."""

    def __init__(
        self,
        file: HubFile,
        total: int,
        progress: Progress,
        stop_requested: Callable[[], bool],
        fail_at: float | None,
        speed: float | None,
    ) -> None:
        self._file = file
        self.total = total
        self._progress = progress
        self._stop_requested = stop_requested
        self._fail_after = None if fail_at is None else int(total * fail_at)
        self._speed = speed
        self._started = time.monotonic()
        self.done = 0
        self._reported = -1

    def check(self) -> None:
        if self._stop_requested():
            raise ServerError(f"Download of {self._file.file_name!r} was cancelled")
        if self._fail_after is not None and self.done >= self._fail_after:
            raise ServerError(
                f"Download of {self._file.file_name!r} failed",
                cause=f"Injected fault (download-fail-at): the transfer broke off after "
                f"{self.done} of {self.total} bytes.",
                suggestion="Clear the server's faults and download again.",
            )

    async def advance(self, count: int) -> None:
        self.done += count
        if self._speed:
            ahead = self.done / self._speed - (time.monotonic() - self._started)
            if ahead > 0:
                await anyio.sleep(ahead)
        self.check()
        if self.done >= self.total or self.done - self._reported >= self.total * _REPORT_EVERY:
            self._reported = self.done
            elapsed = max(time.monotonic() - self._started, 1e-6)
            await self._progress(self.done, self.total, self.done / elapsed)


async def simulate_download(
    file: HubFile,
    progress: Progress,
    stop_requested: Callable[[], bool],
    *,
    fail_at: float | None,
    speed: float | None,
) -> None:
    """Report a download of ``file``'s size without moving any bytes."""
    total = max(1, file.total_bytes)
    meter = _Meter(file, total, progress, stop_requested, fail_at, speed)
    meter.check()
    step = -(-total // _SIMULATED_STEPS)
    while meter.done < total:
        count = min(step, total - meter.done)
        if not speed:
            await anyio.sleep(SIMULATED_SECONDS / _SIMULATED_STEPS)
        await meter.advance(count)


def _copy_chunk(source: BinaryIO, target: BinaryIO) -> int:
    data = source.read(CHUNK_BYTES)
    target.write(data)
    return len(data)


def _finish(target: BinaryIO) -> None:
    target.flush()
    os.fsync(target.fileno())


async def _copy_one(source: Path, destination: Path, meter: _Meter) -> Path:
    """Copy ``source`` to a hidden temporary beside ``destination``; return the temporary."""
    partial = destination.with_name(f".{destination.name}.part-{secrets.token_hex(4)}")
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            while True:
                count = await anyio.to_thread.run_sync(_copy_chunk, reader, writer)
                if not count:
                    break
                await meter.advance(count)
            await anyio.to_thread.run_sync(_finish, writer)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial


async def copy_hub_file(
    file: HubFile,
    models_dir: Path,
    progress: Progress,
    stop_requested: Callable[[], bool],
    *,
    fail_at: float | None,
    speed: float | None,
) -> Path:
    """Copy ``file`` (projector first) into ``models_dir``; return the model file's path."""
    assert file.source is not None
    target_dir = models_dir / file.repository
    created = [d for d in (target_dir.parent, target_dir) if not d.exists()]
    target_dir.mkdir(parents=True, exist_ok=True)
    meter = _Meter(file, max(1, file.total_bytes), progress, stop_requested, fail_at, speed)
    placed: list[Path] = []
    partials: list[Path] = []
    try:
        meter.check()
        for companion in file.companions:
            destination = target_dir / companion.name
            if destination.exists():
                await meter.advance(companion.stat().st_size)
                continue
            partials.append(await _copy_one(companion, destination, meter))
        model_partial = await _copy_one(file.source, target_dir / file.file_name, meter)
        partials.append(model_partial)
        # Projectors first: the model must never be listed without the projector it needs.
        for partial in partials:
            destination = partial.with_name(partial.name[1:].rsplit(".part-", 1)[0])
            os.replace(partial, destination)
            placed.append(destination)
        return target_dir / file.file_name
    except BaseException:
        for path in partials:
            path.unlink(missing_ok=True)
        if target_dir / file.file_name not in placed:
            for path in placed:
                path.unlink(missing_ok=True)
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty
        raise
