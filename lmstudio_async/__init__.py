"""lmstudio-async: an asyncio-first SDK for LM Studio.

Start with :class:`AsyncClient`::

    async with AsyncClient() as client:
        print(await client.system.version())
"""

from ._version import __version__
from .batch import (
    AsyncBatchResults,
    AsyncClientPool,
    AsyncPooledLLM,
    AsyncPoolLLMNamespace,
    BatchResult,
)
from .callbacks import Callback, ProgressCallback
from .chat import AssistantResponse, Chat, ChatHistoryInput, ChatMessageInput
from .client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, AsyncClient
from .config import (
    EmbeddingLoadModelConfig,
    EmbeddingLoadModelConfigDict,
    GpuSetting,
    GpuSettingDict,
    LlmLoadModelConfig,
    LlmLoadModelConfigDict,
    LlmPredictionConfig,
    LlmPredictionConfigDict,
    ReasoningParsing,
    StructuredSetting,
)
from .convenience import embedding_model, list_downloaded_models, list_loaded_models, llm
from .default_client import close_default_client, configure_default_client, get_default_client
from .defaults import get_default_timeout, set_default_timeout
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
from .listing import ModelNamespaceName
from .loading import DEFAULT_TTL
from .namespaces import AsyncEmbeddingNamespace, AsyncLLMNamespace, AsyncModelNamespace
from .predict_request import PredictionConfigInput
from .prediction import AsyncPredictionStream, PredictionCallbacks, PredictionResult
from .protocol import (
    EmbeddingModelInfo,
    EmbeddingModelInstanceInfo,
    FilePart,
    LlmInfo,
    LlmInstanceInfo,
    LlmPredictionFragment,
    LlmPredictionStats,
    ModelInfo,
    ModelInstanceInfo,
    ModelQuery,
    TextPart,
    VersionResult,
)
from .specifiers import ModelSpecifierInput
from .structured import ResponseFormat
from .system import AsyncSystemNamespace

__all__ = [
    "__version__",
    "llm",
    "embedding_model",
    "list_loaded_models",
    "list_downloaded_models",
    "get_default_client",
    "configure_default_client",
    "close_default_client",
    "get_default_timeout",
    "set_default_timeout",
    "AsyncClient",
    "AsyncClientPool",
    "AsyncPoolLLMNamespace",
    "AsyncPooledLLM",
    "AsyncBatchResults",
    "BatchResult",
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
    "Chat",
    "ChatHistoryInput",
    "ChatMessageInput",
    "AssistantResponse",
    "TextPart",
    "FilePart",
    "LlmPredictionConfig",
    "LlmPredictionConfigDict",
    "PredictionConfigInput",
    "ReasoningParsing",
    "StructuredSetting",
    "ResponseFormat",
    "AsyncPredictionStream",
    "PredictionCallbacks",
    "PredictionResult",
    "LlmPredictionFragment",
    "LlmPredictionStats",
    "DEFAULT_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "ModelNamespaceName",
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
