"""Records of downloaded models, from which a model can be loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .callbacks import ProgressCallback
from .config import EmbeddingLoadModelConfig, LlmLoadModelConfig
from .loading import DEFAULT_TTL
from .protocol import EmbeddingModelInfo, LlmInfo, ModelInfo

if TYPE_CHECKING:
    from .client import AsyncClient
    from .handles import AsyncEmbeddingModel, AsyncLLM

__all__ = [
    "AsyncDownloadedModel",
    "AsyncDownloadedLlm",
    "AsyncDownloadedEmbeddingModel",
    "downloaded_record",
]

InfoT = TypeVar("InfoT", LlmInfo, EmbeddingModelInfo)
HandleT = TypeVar("HandleT", "AsyncLLM", "AsyncEmbeddingModel")
ConfigT = TypeVar("ConfigT", LlmLoadModelConfig, EmbeddingLoadModelConfig)


class AsyncDownloadedModel(Generic[InfoT, HandleT, ConfigT]):
    """A model on the server's disk. ``info`` has everything the server said about it."""

    def __init__(self, client: AsyncClient, info: InfoT) -> None:
        self._client = client
        self._info: InfoT = info

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_key={self.model_key!r}, path={self.path!r})"

    @property
    def info(self) -> InfoT:
        """Everything the server said about this model."""
        return self._info

    @property
    def model_key(self) -> str:
        return self.info.model_key

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def display_name(self) -> str:
        return self.info.display_name

    @property
    def type(self) -> str:
        """``"llm"`` or ``"embedding"``."""
        return "llm" if isinstance(self.info, LlmInfo) else "embedding"

    async def model(
        self,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: ConfigT | Mapping[str, Any] | None = None,
        on_load_progress: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> HandleT:
        """A loaded instance of this model, loading one if none is (see ``namespace.model``)."""
        namespace: Any = getattr(self._client, self.type)
        handle: HandleT = await namespace.model(
            self.model_key,
            ttl=ttl,
            config=config,
            on_load_progress=on_load_progress,
            on_progress=on_progress,
            timeout=timeout,
        )
        return handle

    async def load_new_instance(
        self,
        instance_identifier: str | None = None,
        *,
        ttl: float | None = DEFAULT_TTL,
        config: ConfigT | Mapping[str, Any] | None = None,
        on_load_progress: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> HandleT:
        """A new instance of this model (see ``namespace.load_new_instance``)."""
        namespace: Any = getattr(self._client, self.type)
        handle: HandleT = await namespace.load_new_instance(
            self.model_key,
            instance_identifier,
            ttl=ttl,
            config=config,
            on_load_progress=on_load_progress,
            on_progress=on_progress,
            timeout=timeout,
        )
        return handle


class AsyncDownloadedLlm(AsyncDownloadedModel[LlmInfo, "AsyncLLM", LlmLoadModelConfig]):
    """A downloaded LLM."""


class AsyncDownloadedEmbeddingModel(
    AsyncDownloadedModel[EmbeddingModelInfo, "AsyncEmbeddingModel", EmbeddingLoadModelConfig]
):
    """A downloaded embedding model."""


def downloaded_record(
    client: AsyncClient, info: ModelInfo
) -> AsyncDownloadedLlm | AsyncDownloadedEmbeddingModel:
    if isinstance(info, LlmInfo):
        return AsyncDownloadedLlm(client, info)
    return AsyncDownloadedEmbeddingModel(client, info)
