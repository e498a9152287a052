"""Handles to loaded model instances: ``AsyncLLM`` and ``AsyncEmbeddingModel``.

A handle addresses its instance by ``instanceReference``, the server's opaque
per-instance id, so it always means the instance it was created for, even if
that instance is unloaded and another one later takes its identifier. (The
official Python SDK addresses instances by identifier instead; both are valid
wire forms.) Using a handle whose instance is gone raises
:class:`LMStudioModelNotFoundError` saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from .callbacks import Callback, Callback0
from .chat import AssistantResponse, ChatHistoryInput, to_history
from .config import (
    EMBEDDING_LOAD_CONFIG,
    LLM_LOAD_CONFIG,
    EmbeddingLoadModelConfig,
    LlmLoadModelConfig,
)
from .config.mapping import ConfigSchema
from .errors import LMStudioModelNotFoundError, LMStudioPredictionError, LMStudioValueError
from .predict_request import (
    PredictionConfigInput,
    build_chat_request,
    build_completion_request,
    template_opts,
)
from .prediction import AsyncPredictionStream, PredictionCallbacks, PredictionResult
from .protocol import (
    ApplyPromptTemplateOpts,
    ApplyPromptTemplateParameter,
    ApplyPromptTemplateResult,
    CountTokensResult,
    EmbeddingModelInstanceInfo,
    EmbedStringParameter,
    EmbedStringResult,
    GetModelInfoParameter,
    KVConfig,
    KVConfigStack,
    LlmInstanceInfo,
    LlmPredictionFragment,
    ModelInstanceInfo,
    PredictPacket,
    PredictParameter,
    SpecifierParameter,
    TokenizeParameter,
    TokenizeResult,
    UnloadModelParameter,
    lenient_decoder_for,
)
from .specifiers import by_reference
from .structured import ResponseFormat, ResponseSchema
from .tools.definitions import (
    ToolDefinition,
    ToolProvider,
    offer_tools,
    resolve_tools,
    tools_setting,
)
from .tools.results import ActResult, PredictionRoundResult, ToolCallRequest, ToolResultMessage
from .validation import check_text

if TYPE_CHECKING:
    from .batch.results import BatchResult
    from .batch.scheduler import AsyncBatchResults
    from .client import AsyncClient
    from .transport.channel import Channel

__all__ = ["AsyncModelHandle", "AsyncLLM", "AsyncEmbeddingModel", "handle_for"]

_PREDICT = lenient_decoder_for(PredictPacket, "llm/predict")

InfoT = TypeVar("InfoT", LlmInstanceInfo, EmbeddingModelInstanceInfo)
ConfigT = TypeVar("ConfigT", LlmLoadModelConfig, EmbeddingLoadModelConfig)
T = TypeVar("T")


class AsyncModelHandle(Generic[InfoT, ConfigT]):
    """A loaded model instance. Compare handles with ``==`` (same instance)."""

    namespace: ClassVar[str]
    kind: ClassVar[str]
    _load_config_schema: ClassVar[ConfigSchema[Any]]
    _info_type: ClassVar[type[Any]]

    def __init__(self, client: AsyncClient, info: InfoT) -> None:
        self._client = client
        self._info: InfoT = info

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(identifier={self.identifier!r}, model_key={self.model_key!r})"
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.instance_reference == self.instance_reference

    def __hash__(self) -> int:
        return hash((type(self), self.instance_reference))

    @property
    def identifier(self) -> str:
        """The instance identifier (what ``unload("...")`` and the LM Studio UI use)."""
        return self._info.identifier

    @property
    def instance_reference(self) -> str:
        return self._info.instance_reference

    @property
    def model_key(self) -> str:
        return self._info.model_key

    @property
    def info(self) -> InfoT:
        """The instance info as of when this handle was created; see :meth:`get_info`."""
        return self._info

    def _specifier(self) -> Any:
        return by_reference(self.instance_reference)

    async def _call(
        self, endpoint: str, parameter: Any, result_type: type[T], timeout: float | None
    ) -> T:
        try:
            return await self._client._call(
                self.namespace, endpoint, parameter, result_type, timeout=timeout
            )
        except LMStudioModelNotFoundError as exc:
            raise self._gone(exc) from exc

    def _gone(self, cause: LMStudioModelNotFoundError) -> LMStudioModelNotFoundError:
        return cause.restated(
            f"The {self.kind} instance {self.identifier!r} is no longer loaded (it was unloaded, "
            f"or evicted after its TTL). Get a new handle, e.g. "
            f"client.{self.namespace}.model({self.model_key!r})."
        )

    async def get_info(self, *, timeout: float | None = None) -> InfoT:
        """Fresh information about this instance from the server."""
        parameter = GetModelInfoParameter(specifier=self._specifier(), throw_if_not_found=True)
        info: InfoT = await self._call("getModelInfo", parameter, self._info_type, timeout)
        self._info = info
        return info

    async def get_load_config(self, *, timeout: float | None = None) -> ConfigT:
        """The configuration this instance was loaded with (settings this SDK knows)."""
        kv = await self._call(
            "getLoadConfig", SpecifierParameter(specifier=self._specifier()), KVConfig, timeout
        )
        config: ConfigT = self._load_config_schema.from_kv_config(kv)
        return config

    async def get_context_length(self, *, timeout: float | None = None) -> int:
        """The context length this instance was loaded with, in tokens."""
        return (await self.get_info(timeout=timeout)).context_length

    @overload
    async def tokenize(  # type: ignore[overload-overlap]  # a str is also an Iterable[str]
        self, input: str, *, timeout: float | None = None
    ) -> list[int]: ...
    @overload
    async def tokenize(
        self, input: Iterable[str], *, timeout: float | None = None
    ) -> list[list[int]]: ...
    async def tokenize(
        self, input: str | Iterable[str], *, timeout: float | None = None
    ) -> list[int] | list[list[int]]:
        """Token ids of the text ``input``, or of each text of an iterable (in order)."""
        if isinstance(input, str):
            return await self._tokenize_one(check_text(input, "input"), timeout)
        texts = _texts(input, "tokenize")
        return list(await asyncio.gather(*(self._tokenize_one(t, timeout) for t in texts)))

    async def _tokenize_one(self, text: str, timeout: float | None) -> list[int]:
        parameter = TokenizeParameter(specifier=self._specifier(), input_string=text)
        return (await self._call("tokenize", parameter, TokenizeResult, timeout)).tokens

    async def count_tokens(self, input: str, *, timeout: float | None = None) -> int:
        """How many tokens the text ``input`` is for this model."""
        parameter = TokenizeParameter(
            specifier=self._specifier(), input_string=check_text(input, "input")
        )
        return (await self._call("countTokens", parameter, CountTokensResult, timeout)).token_count

    async def unload(self, *, timeout: float | None = None) -> None:
        """Unload this instance from memory."""
        parameter = UnloadModelParameter(identifier=self.identifier)
        try:
            await self._client._call_raw(self.namespace, "unloadModel", parameter, timeout=timeout)
        except LMStudioModelNotFoundError as exc:
            raise self._gone(exc) from exc


def _texts(texts: Iterable[str], what: str) -> list[str]:
    if not isinstance(texts, Iterable):
        raise LMStudioValueError(
            f"{what} takes a string or an iterable of strings, not {type(texts).__name__}."
        )
    items = list(texts)
    for index, item in enumerate(items):
        check_text(item, f"input[{index}]")
    return items


class AsyncLLM(AsyncModelHandle[LlmInstanceInfo, LlmLoadModelConfig]):
    """A loaded LLM."""

    namespace = "llm"
    kind = "LLM"
    _load_config_schema = LLM_LOAD_CONFIG
    _info_type = LlmInstanceInfo

    def respond_stream(
        self,
        history: ChatHistoryInput,
        *,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        preset: str | None = None,
        on_message: Callback[AssistantResponse] | None = None,
        on_first_token: Callback0 | None = None,
        on_prediction_fragment: Callback[LlmPredictionFragment] | None = None,
        on_prompt_processing_progress: Callback[float] | None = None,
        timeout: float | None = None,
        tools: Iterable[ToolDefinition] | None = None,
    ) -> AsyncPredictionStream:
        """Stream the model's reply to a chat: ``async for fragment in llm.respond_stream(chat)``.

        ``history`` is a :class:`Chat`, a chat-history dict or a plain string (one
        user message). ``preset`` names a prediction preset saved on the server; ``config``
        overrides its settings. Arguments are checked before anything is sent; the request
        goes out when the stream is first used. ``timeout`` bounds the server's
        silence between two packets.

        ``tools`` offers tools to the model without running them: the result's
        ``tool_call_requests`` holds the calls it asks for (answer them with
        ``chat.add_tool_results`` and respond again), or use :meth:`act`.
        """
        return self._chat_stream(
            history,
            config,
            response_format,
            PredictionCallbacks(
                on_message, on_first_token, on_prediction_fragment, on_prompt_processing_progress
            ),
            timeout,
            tools=None if tools is None else tools_setting(resolve_tools(tools).values()),
            preset=preset,
        )

    def _chat_stream(
        self,
        history: ChatHistoryInput,
        config: PredictionConfigInput,
        response_format: ResponseFormat | None,
        callbacks: PredictionCallbacks,
        timeout: float | None,
        *,
        tools: dict[str, Any] | None = None,
        preset: str | None = None,
    ) -> AsyncPredictionStream:
        parameter, schema = build_chat_request(
            self._specifier(), history, config, response_format, preset
        )
        if tools is not None:
            offer_tools(parameter, tools)
        return self._stream("chat response", parameter, schema, callbacks, timeout)

    async def respond(
        self,
        history: ChatHistoryInput,
        *,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        preset: str | None = None,
        on_message: Callback[AssistantResponse] | None = None,
        on_first_token: Callback0 | None = None,
        on_prediction_fragment: Callback[LlmPredictionFragment] | None = None,
        on_prompt_processing_progress: Callback[float] | None = None,
        timeout: float | None = None,
        tools: Iterable[ToolDefinition] | None = None,
    ) -> PredictionResult:
        """The model's complete reply to a chat (see :meth:`respond_stream`)."""
        stream = self.respond_stream(
            history,
            config=config,
            response_format=response_format,
            preset=preset,
            on_message=on_message,
            on_first_token=on_first_token,
            on_prediction_fragment=on_prediction_fragment,
            on_prompt_processing_progress=on_prompt_processing_progress,
            timeout=timeout,
            tools=tools,
        )
        return await stream.wait_for_result()

    async def act(
        self,
        chat: ChatHistoryInput,
        tools: Iterable[ToolDefinition | ToolProvider],
        *,
        max_prediction_rounds: int | None = None,
        max_parallel_tool_calls: int | None = 1,
        config: PredictionConfigInput = None,
        preset: str | None = None,
        on_message: Callback[AssistantResponse | ToolResultMessage] | None = None,
        on_first_token: Callable[[int], object] | None = None,
        on_prediction_fragment: Callable[[LlmPredictionFragment, int], object] | None = None,
        on_round_start: Callable[[int], object] | None = None,
        on_round_end: Callable[[int], object] | None = None,
        on_prediction_completed: Callable[[PredictionRoundResult], object] | None = None,
        on_prompt_processing_progress: Callable[[float, int], object] | None = None,
        handle_invalid_tool_request: Callable[
            [LMStudioPredictionError, ToolCallRequest | None], str | None
        ]
        | None = None,
        tool_timeout: float | None = None,
        timeout: float | None = None,
    ) -> ActResult:
        """Let the model use tools: predict, run the tools it calls, feed the results back,
        and repeat until it answers without calling a tool (see :mod:`lmstudio_async.tools.act`).

        ``chat`` is not changed; ``on_message`` receives each message the loop adds
        (pass ``chat.append`` to record them).
        """
        from .tools.act import run_act

        return await run_act(
            self,
            chat,
            tools,
            max_prediction_rounds=max_prediction_rounds,
            max_parallel_tool_calls=max_parallel_tool_calls,
            config=config,
            preset=preset,
            on_message=on_message,
            on_first_token=on_first_token,
            on_prediction_fragment=on_prediction_fragment,
            on_round_start=on_round_start,
            on_round_end=on_round_end,
            on_prediction_completed=on_prediction_completed,
            on_prompt_processing_progress=on_prompt_processing_progress,
            handle_invalid_tool_request=handle_invalid_tool_request,
            tool_timeout=tool_timeout,
            packet_timeout=timeout,
        )

    def complete_stream(
        self,
        prompt: str,
        *,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        preset: str | None = None,
        on_message: Callback[AssistantResponse] | None = None,
        on_first_token: Callback0 | None = None,
        on_prediction_fragment: Callback[LlmPredictionFragment] | None = None,
        on_prompt_processing_progress: Callback[float] | None = None,
        timeout: float | None = None,
    ) -> AsyncPredictionStream:
        """Stream a raw text completion of ``prompt`` (no chat template is applied)."""
        parameter, schema = build_completion_request(
            self._specifier(), prompt, config, response_format, preset
        )
        return self._stream(
            "completion",
            parameter,
            schema,
            PredictionCallbacks(
                on_message, on_first_token, on_prediction_fragment, on_prompt_processing_progress
            ),
            timeout,
        )

    async def complete(
        self,
        prompt: str,
        *,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        preset: str | None = None,
        on_message: Callback[AssistantResponse] | None = None,
        on_first_token: Callback0 | None = None,
        on_prediction_fragment: Callback[LlmPredictionFragment] | None = None,
        on_prompt_processing_progress: Callback[float] | None = None,
        timeout: float | None = None,
    ) -> PredictionResult:
        """A complete raw text completion of ``prompt`` (see :meth:`complete_stream`)."""
        stream = self.complete_stream(
            prompt,
            config=config,
            response_format=response_format,
            preset=preset,
            on_message=on_message,
            on_first_token=on_first_token,
            on_prediction_fragment=on_prediction_fragment,
            on_prompt_processing_progress=on_prompt_processing_progress,
            timeout=timeout,
        )
        return await stream.wait_for_result()

    # --- batches (see lmstudio_async.batch) ---------------------------------------------

    async def respond_batch(
        self,
        inputs: Iterable[ChatHistoryInput] | AsyncIterable[ChatHistoryInput],
        *,
        concurrency: int = 8,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> list[BatchResult]:
        """Replies to many chats, ``concurrency`` at a time: one :class:`BatchResult` per
        input, in input order. A failed item never fails the batch: its result holds the
        error. Transient failures (lost socket, timeout, unreachable or busy server) are
        retried up to ``max_retries`` times with backoff; permanent ones are not.

        ``inputs`` (chats, history dicts or strings) may be an iterator or async iterator:
        only the items in flight are held. ``on_result`` sees each result as it completes
        (a plain or an async function). Cancelling the call cancels every prediction in
        flight. ``timeout`` bounds each prediction's silence between two packets.
        """
        from .batch.scheduler import collect

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
        concurrency: int = 8,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> AsyncBatchResults:
        """Like :meth:`respond_batch`, but yields each result as soon as it completes:
        ``async for result in llm.respond_as_completed(chats)`` (``result.index`` tells which
        input it answers). Leaving the loop early cancels the predictions still in flight."""
        return self._batch(
            "respond", inputs, concurrency, config, response_format, max_retries, timeout, on_result
        )

    async def complete_batch(
        self,
        inputs: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = 8,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> list[BatchResult]:
        """Raw completions of many prompts (see :meth:`respond_batch`)."""
        from .batch.scheduler import collect

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
        concurrency: int = 8,
        config: PredictionConfigInput = None,
        response_format: ResponseFormat | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        on_result: Callback[BatchResult] | None = None,
    ) -> AsyncBatchResults:
        """Raw completions of many prompts, yielded as they complete (see
        :meth:`respond_as_completed`)."""
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
        concurrency: int,
        config: PredictionConfigInput,
        response_format: ResponseFormat | None,
        max_retries: int,
        timeout: float | None,
        on_result: Callback[BatchResult] | None,
    ) -> AsyncBatchResults:
        from .batch.targets import handle_batch, prediction_options

        options = prediction_options(
            kind,
            inputs,
            concurrency=concurrency,
            config=config,
            response_format=response_format,
            max_retries=max_retries,
            timeout=timeout,
        )
        return handle_batch(
            self,
            options,
            inputs,
            concurrency=concurrency,
            max_retries=max_retries,
            on_result=on_result,
        )

    def _stream(
        self,
        what: str,
        parameter: PredictParameter,
        schema: ResponseSchema | None,
        callbacks: PredictionCallbacks,
        timeout: float | None,
    ) -> AsyncPredictionStream:
        client = self._client

        async def open_channel() -> Channel[PredictPacket]:
            return await client._open_channel(
                "llm", "predict", parameter, _PREDICT, timeout=timeout
            )

        return AsyncPredictionStream(
            open_channel, label=f"{what} of {self.identifier!r}", callbacks=callbacks, schema=schema
        )

    async def apply_prompt_template(
        self,
        history: ChatHistoryInput,
        opts: ApplyPromptTemplateOpts | Mapping[str, Any] | None = None,
        *,
        omit_bos_token: bool | None = None,
        omit_eos_token: bool | None = None,
        timeout: float | None = None,
    ) -> str:
        """The exact text the model would be prompted with for ``history``.

        ``opts`` (``{"omitBosToken": True}``, snake_case keys too) is the official
        SDK's form of ``omit_bos_token``/``omit_eos_token``.
        """
        options = template_opts(opts, omit_bos_token, omit_eos_token)
        parameter = ApplyPromptTemplateParameter(
            specifier=self._specifier(),
            history=to_history(history),
            prediction_config_stack=KVConfigStack(layers=[]),
            opts=options,
        )
        result = await self._call(
            "applyPromptTemplate", parameter, ApplyPromptTemplateResult, timeout
        )
        return result.formatted


class AsyncEmbeddingModel(AsyncModelHandle[EmbeddingModelInstanceInfo, EmbeddingLoadModelConfig]):
    """A loaded embedding model."""

    namespace = "embedding"
    kind = "embedding model"
    _load_config_schema = EMBEDDING_LOAD_CONFIG
    _info_type = EmbeddingModelInstanceInfo

    @overload
    async def embed(  # type: ignore[overload-overlap]  # a str is also an Iterable[str]
        self, input: str, *, timeout: float | None = None
    ) -> list[float]: ...
    @overload
    async def embed(
        self, input: Iterable[str], *, timeout: float | None = None
    ) -> list[list[float]]: ...
    async def embed(
        self, input: str | Iterable[str], *, timeout: float | None = None
    ) -> list[float] | list[list[float]]:
        """The embedding vector of the text ``input``, or one vector per text of an iterable
        (in order)."""
        if isinstance(input, str):
            return await self._embed_one(check_text(input, "input"), timeout)
        texts = _texts(input, "embed")
        return list(await asyncio.gather(*(self._embed_one(t, timeout) for t in texts)))

    async def _embed_one(self, text: str, timeout: float | None) -> list[float]:
        parameter = EmbedStringParameter(model_specifier=self._specifier(), input_string=text)
        return (await self._call("embedString", parameter, EmbedStringResult, timeout)).embedding


def handle_for(client: AsyncClient, info: ModelInstanceInfo) -> AsyncLLM | AsyncEmbeddingModel:
    """The handle type matching an instance info's domain."""
    if isinstance(info, LlmInstanceInfo):
        return AsyncLLM(client, info)
    return AsyncEmbeddingModel(client, info)
