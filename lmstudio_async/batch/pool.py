"""``AsyncClientPool``: one batch spread over several LM Studio servers.

Each host serves the loaded instances of the model (``pool.llm.model(key)`` loads
one where none is), and each instance takes as many predictions at a time as its
load config's ``maxParallelPredictions`` says, as the server reports it (the
measured limit, not a guess; 1 if the server does not report one). An item goes
to the instance with the largest share of free slots. When a host fails (its
socket breaks, or it cannot be reached) it leaves the rotation, its in-flight
items run again elsewhere without using up their retries, and it is probed in
the background until it answers again (its slots are measured anew then).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from typing_extensions import Self

from ..callbacks import Callback
from ..chat import ChatHistoryInput
from ..client import AsyncClient
from ..config import LlmLoadModelConfig
from ..errors import LMStudioValueError
from ..loading import DEFAULT_TTL
from ..predict_request import PredictionConfigInput
from ..structured import ResponseFormat
from .dispatch import Dispatcher, Host, PoolRunner, measure
from .results import BatchResult
from .retry import RetryPolicy, is_connection_failure
from .scheduler import AsyncBatchResults, collect
from .targets import prediction_options

__all__ = ["AsyncClientPool", "AsyncPoolLLMNamespace", "AsyncPooledLLM"]


class AsyncPooledLLM:
    """One model served by every host of a pool; its batch methods spread the items."""

    def __init__(self, pool: AsyncClientPool, dispatcher: Dispatcher, model_key: str) -> None:
        self._pool = pool
        self._dispatcher = dispatcher
        self._model_key = model_key

    def __repr__(self) -> str:
        return f"AsyncPooledLLM(model_key={self._model_key!r}, hosts={self.hosts!r})"

    @property
    def model_key(self) -> str:
        return self._model_key

    @property
    def hosts(self) -> list[str]:
        """The hosts serving this model right now."""
        return [host.address for host in self._dispatcher.hosts if host.alive and host.lanes]

    @property
    def capacity(self) -> int:
        """Predictions the live hosts can run at once (the sum of their instances' slots)."""
        return self._dispatcher.capacity

    async def respond_batch(
        self,
        inputs: Iterable[ChatHistoryInput] | AsyncIterable[ChatHistoryInput],
        *,
        concurrency: int | None = None,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> list[BatchResult]:
        """Replies to many chats, spread over the pool (see ``AsyncLLM.respond_batch``).
        ``concurrency`` defaults to :attr:`capacity`."""
        return await collect(
            self.respond_as_completed(
                inputs,
                concurrency=concurrency,
                config=config,
                response_format=response_format,
                max_retries=max_retries,
                timeout=timeout,
                on_result=on_result,
            )
        )

    def respond_as_completed(
        self,
        inputs: Iterable[ChatHistoryInput] | AsyncIterable[ChatHistoryInput],
        *,
        concurrency: int | None = None,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> AsyncBatchResults:
        """Replies to many chats, yielded as they complete (see :meth:`respond_batch`)."""
        return self._batch(
            "respond", inputs, concurrency, config, response_format, max_retries, timeout, on_result
        )

    async def complete_batch(
        self,
        inputs: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int | None = None,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> list[BatchResult]:
        """Raw completions of many prompts, spread over the pool."""
        return await collect(
            self.complete_as_completed(
                inputs,
                concurrency=concurrency,
                config=config,
                response_format=response_format,
                max_retries=max_retries,
                timeout=timeout,
                on_result=on_result,
            )
        )

    def complete_as_completed(
        self,
        inputs: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int | None = None,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> AsyncBatchResults:
        """Raw completions of many prompts, yielded as they complete."""
        return self._batch(
            "complete",
            inputs,
            concurrency,
            config,
            response_format,
            max_retries,
            timeout,
            on_result,
        )

    def _batch(
        self,
        kind: str,
        inputs: Iterable[Any] | AsyncIterable[Any],
        concurrency: int | None,
        config: PredictionConfigInput,
        response_format: ResponseFormat | None,
        max_retries: int,
        timeout: float | None,
        on_result: Callback[BatchResult] | None,
    ) -> AsyncBatchResults:
        options = prediction_options(
            kind,
            inputs,
            concurrency=concurrency,
            config=config,
            response_format=response_format,
            max_retries=max_retries,
            timeout=timeout,
        )
        return AsyncBatchResults(
            inputs,
            PoolRunner(self._dispatcher, options),
            window=concurrency or max(1, self.capacity),
            retry=RetryPolicy(max_retries),
            on_result=on_result,
        )


class AsyncPoolLLMNamespace:
    """``pool.llm``: models served by the whole pool."""

    def __init__(self, pool: AsyncClientPool) -> None:
        self._pool = pool

    async def model(
        self,
        model_key: str,
        /,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: LlmLoadModelConfig | Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> AsyncPooledLLM:
        """The model on every reachable host (loaded where it is not yet; ``ttl`` and
        ``config`` apply to those loads), with each host's parallel slots measured.

        Hosts that cannot be reached are left out for now and probed in the
        background; if none can be reached, the first host's error is raised.
        """
        pool = self._pool

        async def prepare(host: Host) -> str:
            llm = await host.client.llm.model(model_key, ttl=ttl, config=config, timeout=timeout)
            host.lanes = await measure(host, llm.model_key, timeout)
            return llm.model_key

        hosts = [
            Host(client, address) for client, address in zip(pool._clients, pool.hosts, strict=True)
        ]
        outcomes = await asyncio.gather(*(prepare(host) for host in hosts), return_exceptions=True)
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if len(errors) == len(hosts):
            raise errors[0]
        served = next(outcome for outcome in outcomes if isinstance(outcome, str))
        dispatcher = Dispatcher(hosts, served, prepare)
        for host, outcome in zip(hosts, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not is_connection_failure(outcome):
                    raise outcome
                dispatcher.host_failed(host, outcome)
        pool._dispatchers.append(dispatcher)
        return AsyncPooledLLM(pool, dispatcher, served)


class AsyncClientPool:
    """Several LM Studio servers used as one: ``AsyncClientPool(["host-a:1234", "host-b:1234"])``.

    ``pool.llm.model(key)`` gives a model whose ``respond_batch``/``complete_batch``
    spread their items over every host. ``api_token`` and ``timeout`` apply to
    every host (see :class:`AsyncClient`). Use ``async with``, or call :meth:`aclose`.
    """

    def __init__(
        self,
        hosts: Sequence[str],
        *,
        api_token: str | None = None,
        timeout: float | None = None,
    ) -> None:
        if isinstance(hosts, str) or not all(isinstance(host, str) for host in hosts):
            raise LMStudioValueError(f"hosts must be a list of 'host:port' strings, not {hosts!r}.")
        if not hosts:
            raise LMStudioValueError("A ClientPool needs at least one host.")
        if len(set(hosts)) != len(hosts):
            raise LMStudioValueError(f"hosts lists a host more than once: {list(hosts)!r}.")
        self._clients = [AsyncClient(host, api_token=api_token, timeout=timeout) for host in hosts]
        self._dispatchers: list[Dispatcher] = []
        self.llm: AsyncPoolLLMNamespace = AsyncPoolLLMNamespace(self)

    def __repr__(self) -> str:
        return f"<AsyncClientPool hosts={self.hosts!r}>"

    @property
    def hosts(self) -> list[str]:
        return [str(client.api_host) for client in self._clients]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop probing failed hosts and close every client. Idempotent."""
        dispatchers, self._dispatchers = self._dispatchers, []
        try:
            await asyncio.gather(*(d.aclose() for d in dispatchers))
        finally:
            await asyncio.gather(*(client.aclose() for client in self._clients))
