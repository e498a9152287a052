"""lmstudio-async: an asyncio-first SDK for LM Studio.

Start with :class:`AsyncClient`::

    async with AsyncClient() as client:
        print(await client.system.version())
"""

from ._version import __version__
from .callbacks import Callback, ProgressCallback
from .client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, AsyncClient
from .config import (
    EmbeddingLoadModelConfig,
    EmbeddingLoadModelConfigDict,
    GpuSetting,
    GpuSettingDict,
    LlmLoadModelConfig,
    LlmLoadModelConfigDict,
)
from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm, AsyncDownloadedModel
from .errors import (
    LMStudioAuthenticationError,
    LMStudioCancelledError,
    LMStudioChannelClosedError,
    LMStudioClientError,
    LMStudioError,
    LMStudioModelNotFoundError,
    LMStudioOSError,
    LMStudioPredictionError,
    LMStudioPresetNotFoundError,
    LMStudioRuntimeError,
    LMStudioServerError,
    LMStudioTimeoutError,
    LMStudioUnknownMessageWarning,
    LMStudioValueError,
    LMStudioWebsocketError,
)
from .handles import AsyncEmbeddingModel, AsyncLLM, AsyncModelHandle
from .listing import ModelNamespace
from .loading import DEFAULT_TTL
from .namespaces import AsyncEmbeddingNamespace, AsyncLLMNamespace, AsyncModelNamespace
from .protocol import (
    EmbeddingModelInfo,
    EmbeddingModelInstanceInfo,
    LlmInfo,
    LlmInstanceInfo,
    ModelInfo,
    ModelInstanceInfo,
    ModelQuery,
    VersionResult,
)
from .specifiers import ModelSpecifierInput
from .system import AsyncSystemNamespace

__all__ = [
    "__version__",
    "AsyncClient",
    "AsyncSystemNamespace",
    "AsyncLLMNamespace",
    "AsyncEmbeddingNamespace",
    "AsyncModelNamespace",
    "AsyncModelHandle",
    "AsyncLLM",
    "AsyncEmbeddingModel",
    "AsyncDownloadedModel",
    "AsyncDownloadedLlm",
    "AsyncDownloadedEmbeddingModel",
    "LlmLoadModelConfig",
    "LlmLoadModelConfigDict",
    "EmbeddingLoadModelConfig",
    "EmbeddingLoadModelConfigDict",
    "GpuSetting",
    "GpuSettingDict",
    "Callback",
    "ProgressCallback",
    "DEFAULT_TTL",
    "ModelQuery",
    "ModelSpecifierInput",
    "DEFAULT_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "ModelNamespace",
    "ModelInfo",
    "LlmInfo",
    "EmbeddingModelInfo",
    "ModelInstanceInfo",
    "LlmInstanceInfo",
    "EmbeddingModelInstanceInfo",
    "VersionResult",
    "LMStudioError",
    "LMStudioOSError",
    "LMStudioRuntimeError",
    "LMStudioValueError",
    "LMStudioClientError",
    "LMStudioServerError",
    "LMStudioModelNotFoundError",
    "LMStudioPresetNotFoundError",
    "LMStudioPredictionError",
    "LMStudioCancelledError",
    "LMStudioChannelClosedError",
    "LMStudioTimeoutError",
    "LMStudioWebsocketError",
    "LMStudioAuthenticationError",
    "LMStudioUnknownMessageWarning",
]
