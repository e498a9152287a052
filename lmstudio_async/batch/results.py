"""The outcome of one item of a batch."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LMStudioError
from ..prediction import PredictionResult

__all__ = ["BatchResult"]


@dataclass(frozen=True)
class BatchResult:
    """One input's outcome: its reply (``ok``), or the error that ended its last attempt.

    ``index`` is the input's position (from 0), ``attempts`` how many times it was
    sent, and ``host`` the ``host:port`` that served its last attempt (``None`` if
    it never reached a server, e.g. invalid input).
    """

    index: int
    ok: bool
    result: PredictionResult | None = None
    error: LMStudioError | None = None
    attempts: int = 1
    host: str | None = None

    def __str__(self) -> str:
        if self.result is not None:
            return self.result.content
        return f"<failed: {self.error}>"

    @property
    def content(self) -> str:
        """The reply's text; raises the item's error if it failed."""
        if self.result is None:
            assert self.error is not None
            raise self.error
        return self.result.content
