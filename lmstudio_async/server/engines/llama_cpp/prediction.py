"""A llama.cpp prediction as the endpoints see it: an async iterator of pieces.

The generation job starts in the model's worker thread when iteration starts
(a prediction that is never iterated costs nothing) and is stopped when the
iterator is closed early. The worker serves one job at a time, in order, so
concurrent predictions on one instance queue up and never share its context.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import Executor
from contextlib import aclosing

from ..base import PredictionOutcome
from ..handoff import TextHandoff
from ..tools import TOOL_CALLS_STOP_REASON, PredictionEvent, ToolCallParser
from .generation import GenerationJob

__all__ = ["LlamaPrediction"]


class LlamaPrediction:
    """``tool_calls``: the parser the text goes through when the prediction offers tools."""

    def __init__(
        self, job: GenerationJob, worker: Executor, tool_calls: ToolCallParser | None = None
    ) -> None:
        self._job = job
        self._worker = worker
        self._tool_calls = tool_calls
        self._outcome: PredictionOutcome | None = None
        self._stream = self._pieces()

    @property
    def predicted_tokens(self) -> int:
        return self._job.predicted_tokens

    @property
    def outcome(self) -> PredictionOutcome | None:
        return self._outcome

    def __aiter__(self) -> AsyncIterator[PredictionEvent]:
        return self._stream

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def _pieces(self) -> AsyncGenerator[PredictionEvent, None]:
        loop = asyncio.get_running_loop()
        handoff = TextHandoff(loop)
        job = self._job
        try:
            # Not awaited: the job reports its end and its errors through the handoff.
            loop.run_in_executor(self._worker, job.run, handoff)
        except RuntimeError:
            # The worker is shut down: the model was unloaded, which stopped this job, so
            # running it here ends it at once without touching the model.
            job.run(handoff)
        try:
            parser = self._tool_calls
            async with aclosing(handoff.pieces()) as pieces:
                async for piece in pieces:
                    if parser is None:
                        yield piece
                    else:
                        for event in parser.feed(piece.text, piece.tokens_count):
                            yield event
            self._outcome = job.outcome
            if parser is not None:
                for event in parser.finish():
                    yield event
                if parser.calls and self._outcome is not None:
                    self._outcome = PredictionOutcome(TOOL_CALLS_STOP_REASON)
        finally:
            job.stop()
