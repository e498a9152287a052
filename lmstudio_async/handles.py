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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from .config import (
    EMBEDDING_LOAD_CONFIG,
    LLM_LOAD_CONFIG,
    EmbeddingLoadModelConfig,
    LlmLoadModelConfig,
)
from .config.mapping import ConfigSchema
from .errors import LMStudioModelNotFoundError, LMStudioValueError
from .protocol import (
    CountTokensResult,
    EmbeddingModelInstanceInfo,
    GetModelInfoParameter,
    KVConfig,
    LlmInstanceInfo,
    ModelInstanceInfo,
    SpecifierParameter,
    TokenizeParameter,
    TokenizeResult,
    UnloadModelParameter,
)
from .specifiers import by_reference

if TYPE_CHECKING:
    from .client import AsyncClient

__all__ = ["AsyncModelHandle", "AsyncLLM", "AsyncEmbeddingModel", "handle_for"]

I = TypeVar("I", LlmInstanceInfo, EmbeddingModelInstanceInfo)  # noqa: E741
C = TypeVar("C", LlmLoadModelConfig, EmbeddingLoadModelConfig)
T = TypeVar("T")


class AsyncModelHandle(Generic[I, C]):
    """A loaded model instance. Compare handles with ``==`` (same instance)."""

    namespace: ClassVar[str]
    kind: ClassVar[str]
    _load_config_schema: ClassVar[ConfigSchema[Any]]
    _info_type: ClassVar[type[Any]]

    def __init__(self, client: AsyncClient, info: I) -> None:
        self._client = client
        self._info: I = info

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
    def info(self) -> I:
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
        return LMStudioModelNotFoundError(
            f"The {self.kind} instance {self.identifier!r} is no longer loaded (it was unloaded, "
            f"or evicted after its TTL). Get a new handle, e.g. "
            f"client.{self.namespace}.model({self.model_key!r}).",
            title=cause.title,
            cause=cause.cause,
            suggestion=cause.suggestion,
            code=cause.code,
            details=cause.details,
        )

    async def get_info(self, *, timeout: float | None = None) -> I:
        """Fresh information about this instance from the server."""
        parameter = GetModelInfoParameter(specifier=self._specifier(), throw_if_not_found=True)
        info: I = await self._call("getModelInfo", parameter, self._info_type, timeout)
        self._info = info
        return info

    async def get_load_config(self, *, timeout: float | None = None) -> C:
        """The configuration this instance was loaded with (settings this SDK knows)."""
        kv = await self._call(
            "getLoadConfig", SpecifierParameter(specifier=self._specifier()), KVConfig, timeout
        )
        config: C = self._load_config_schema.from_kv_config(kv)
        return config

    async def get_context_length(self, *, timeout: float | None = None) -> int:
        """The context length this instance was loaded with, in tokens."""
        return (await self.get_info(timeout=timeout)).context_length

    @overload
    async def tokenize(  # type: ignore[overload-overlap]  # a str is also an Iterable[str]
        self, text: str, *, timeout: float | None = None
    ) -> list[int]: ...
    @overload
    async def tokenize(
        self, text: Iterable[str], *, timeout: float | None = None
    ) -> list[list[int]]: ...
    async def tokenize(
        self, text: str | Iterable[str], *, timeout: float | None = None
    ) -> list[int] | list[list[int]]:
        """Token ids of ``text``, or of each text of an iterable (in order)."""
        if isinstance(text, str):
            return await self._tokenize_one(text, timeout)
        texts = _texts(text, "tokenize")
        return list(await asyncio.gather(*(self._tokenize_one(t, timeout) for t in texts)))

    async def _tokenize_one(self, text: str, timeout: float | None) -> list[int]:
        parameter = TokenizeParameter(specifier=self._specifier(), input_string=text)
        return (await self._call("tokenize", parameter, TokenizeResult, timeout)).tokens

    async def count_tokens(self, text: str, *, timeout: float | None = None) -> int:
        """How many tokens ``text`` is for this model."""
        if not isinstance(text, str):
            raise LMStudioValueError(f"count_tokens takes a string, not {type(text).__name__}.")
        parameter = TokenizeParameter(specifier=self._specifier(), input_string=text)
        return (await self._call("countTokens", parameter, CountTokensResult, timeout)).token_count

    async def unload(self, *, timeout: float | None = None) -> None:
        """Unload this instance from memory."""
        parameter = UnloadModelParameter(identifier=self.identifier)
        try:
            await self._client._call_raw(self.namespace, "unloadModel", parameter, timeout=timeout)
        except LMStudioModelNotFoundError as exc:
            raise self._gone(exc) from exc


def _texts(texts: Iterable[str], what: str) -> list[str]:
    items = list(texts)
    for item in items:
        if not isinstance(item, str):
            raise LMStudioValueError(f"{what} takes strings, not {type(item).__name__} ({item!r}).")
    return items


class AsyncLLM(AsyncModelHandle[LlmInstanceInfo, LlmLoadModelConfig]):
    """A loaded LLM."""

    namespace = "llm"
    kind = "LLM"
    _load_config_schema = LLM_LOAD_CONFIG
    _info_type = LlmInstanceInfo


class AsyncEmbeddingModel(AsyncModelHandle[EmbeddingModelInstanceInfo, EmbeddingLoadModelConfig]):
    """A loaded embedding model."""

    namespace = "embedding"
    kind = "embedding model"
    _load_config_schema = EMBEDDING_LOAD_CONFIG
    _info_type = EmbeddingModelInstanceInfo


def handle_for(client: AsyncClient, info: ModelInstanceInfo) -> AsyncLLM | AsyncEmbeddingModel:
    """The handle type matching an instance info's domain."""
    if isinstance(info, LlmInstanceInfo):
        return AsyncLLM(client, info)
    return AsyncEmbeddingModel(client, info)
