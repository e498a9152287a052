"""Running batch items on one model handle."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..callbacks import Callback
from ..defaults import check_timeout
from ..errors import LMStudioValueError
from ..predict_request import PredictionConfigInput, build_completion_request
from ..prediction import PredictionResult
from ..specifiers import by_reference
from ..structured import ResponseFormat
from .results import BatchResult
from .retry import RetryPolicy
from .scheduler import AsyncBatchResults, Attempt, check_concurrency, check_inputs

if TYPE_CHECKING:
    from ..handles import AsyncLLM

__all__ = ["PredictionOptions", "HandleRunner", "prediction_options", "handle_batch"]


@dataclass(frozen=True)
class PredictionOptions:
    """What every item of a batch is predicted with."""

    #: ``"respond"`` (chat histories) or ``"complete"`` (raw prompts).
    kind: str
    config: PredictionConfigInput = None
    response_format: ResponseFormat | None = None
    timeout: float | None = None

    async def run(self, llm: AsyncLLM, item: Any) -> PredictionResult:
        method = llm.respond if self.kind == "respond" else llm.complete
        return await method(
            item, config=self.config, response_format=self.response_format, timeout=self.timeout
        )


class HandleRunner:
    """Every attempt goes to the same model instance through its client."""

    def __init__(self, llm: AsyncLLM, options: PredictionOptions) -> None:
        self._llm = llm
        self._options = options

    async def run(self, item: Any, attempt: Attempt) -> PredictionResult:
        attempt.host = self._llm._client.api_host
        return await self._options.run(self._llm, item)


def prediction_options(
    kind: str,
    inputs: object,
    *,
    concurrency: int | None,
    config: PredictionConfigInput,
    response_format: ResponseFormat | None,
    max_retries: int,
    timeout: float | None,
) -> PredictionOptions:
    """Check a batch call's arguments before anything is sent."""
    what = f"{kind}_batch"
    check_inputs(inputs, what)
    if concurrency is not None:
        check_concurrency(concurrency)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise LMStudioValueError(f"max_retries must be an integer >= 0, not {max_retries!r}.")
    if timeout is not None:
        check_timeout(timeout)
    # The config and response format are the same for every item: check them once.
    build_completion_request(by_reference("-"), "", config, response_format)
    return PredictionOptions(kind, config, response_format, timeout)


def handle_batch(
    llm: AsyncLLM,
    options: PredictionOptions,
    inputs: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int,
    max_retries: int,
    on_result: Callback[BatchResult] | None,
) -> AsyncBatchResults:
    return AsyncBatchResults(
        inputs,
        HandleRunner(llm, options),
        window=concurrency,
        retry=RetryPolicy(max_retries),
        on_result=on_result,
    )
