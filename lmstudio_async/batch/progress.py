"""Progress of a job: a ``rich`` progress bar in a terminal, plain lines otherwise.

The bar needs the optional ``cli`` extra (``pip install "lmstudio-async[cli]"``);
without it, or when the output is not a terminal, a line like
``120/1000 done, 3 failed, 8.1 items/s, 412 tokens/s, ETA 1m48s`` is printed
every few seconds.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any

from typing_extensions import Self

__all__ = ["JobProgress", "rich_available"]

#: Seconds between two plain progress lines.
PLAIN_INTERVAL = 5.0


def rich_available() -> bool:
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return False
    return True


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class JobProgress:
    """Counts finished items and tokens, and shows them."""

    def __init__(
        self, total: int, *, stream: IO[str] | None = None, bar: bool | None = None
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._last_line = self._started
        use_bar = self._stream.isatty() if bar is None else bar
        self._progress: Any = None
        self._task: Any = None
        if use_bar and rich_available():
            self._progress, self._task = self._rich_bar()

    def _rich_bar(self) -> tuple[Any, Any]:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        progress = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rates]}"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=self._stream),
            transient=False,
        )
        task = progress.add_task("batch", total=self.total, rates="", failed=0)
        return progress, task

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._update_bar()
            self._progress.stop()

    @property
    def rates(self) -> tuple[float, float]:
        """Items per second and tokens per second since the start."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return self.done / elapsed, self.tokens / elapsed

    def advance(self, *, ok: bool, tokens: int = 0) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        self.tokens += tokens
        if self._progress is not None:
            self._update_bar()
        elif (now := time.monotonic()) - self._last_line >= PLAIN_INTERVAL:
            self._last_line = now
            print(self.line(), file=self._stream, flush=True)

    def _update_bar(self) -> None:
        items, tokens = self.rates
        rates = f"{items:.1f} items/s {tokens:.0f} tok/s"
        self._progress.update(self._task, completed=self.done, rates=rates, failed=self.failed)

    def line(self) -> str:
        items, tokens = self.rates
        eta = _duration((self.total - self.done) / items) if items > 0 else "?"
        return (
            f"{self.done}/{self.total} done, {self.failed} failed, {items:.1f} items/s, "
            f"{tokens:.0f} tokens/s, ETA {eta}"
        )
