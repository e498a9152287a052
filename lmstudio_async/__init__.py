"""lmstudio-async: an asyncio-first SDK for LM Studio.

Start with :class:`AsyncClient`::

    async with AsyncClient() as client:
        print(await client.system.version())
"""

from . import history, schemas  # the official SDK's public submodules
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
from .convenience import (
    embedding_model,
    list_downloaded_models,
    list_loaded_models,
    llm,
    prepare_file,
    prepare_image,
)
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
from .files import (
    AsyncFilesNamespace,
    FileHandle,
    FileHandleDict,
    FileHandleInput,
    FileType,
    LocalFileInput,
)
from .handles import AsyncEmbeddingModel, AsyncLLM, AsyncModelHandle
from .history import (
    AnyChatMessage,
    AnyChatMessageDict,
    AssistantResponseContent,
    ChatHistoryData,
    ChatHistoryDataDict,
    SystemPrompt,
    SystemPromptContent,
    TextData,
    TextDataDict,
    UserMessage,
    UserMessageContent,
    UserMessageDict,
)
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
from .repository import (
    AsyncModelDownloadOption,
    AsyncModelSearchResult,
    AsyncRepositoryNamespace,
    DownloadFinalizedCallback,
    DownloadProgressCallback,
    DownloadProgressUpdate,
    ModelSearchResultDownloadOptionData,
    ModelSearchResultEntryData,
)
from .schemas import (
    AnyLMStudioStruct,
    BaseModel,
    DictObject,
    DictSchema,
    ModelSchema,
    ResponseSchema,
    ValidationError,
)
from .specifiers import ModelSpecifierInput
from .structured import ResponseFormat
from .system import AsyncSystemNamespace
from .tools.definitions import ToolDefinition, ToolFunctionDef, ToolFunctionDefDict
from .tools.results import (
    ActResult,
    PredictionRoundResult,
    ToolCallRequest,
    ToolCallResultData,
    ToolResultMessage,
)
from .tracebacks import guard_classes, public_coroutine
from .type_aliases import (
    AnyAsyncDownloadedModel,
    AnyLoadConfig,
    AnyModelSpecifier,
    ModelQueryDict,
    ModelSpecifier,
    ModelSpecifierDict,
    PredictionFirstTokenCallback,
    PredictionFragmentCallback,
    PredictionMessageCallback,
    PromptProcessingCallback,
    SerializedLMSExtendedError,
)

__all__ = [
    "ActResult",
    "PredictionRoundResult",
    "ToolCallRequest",
    "ToolCallResultData",
    "ToolDefinition",
    "ToolFunctionDef",
    "ToolFunctionDefDict",
    "ToolResultMessage",
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
    # images and files
    "prepare_image",
    "prepare_file",
    "AsyncFilesNamespace",
    "FileHandle",
    "FileHandleDict",
    "FileHandleInput",
    "FileType",
    "LocalFileInput",
    # model repository
    "AsyncRepositoryNamespace",
    "AsyncModelSearchResult",
    "AsyncModelDownloadOption",
    "DownloadProgressUpdate",
    "DownloadProgressCallback",
    "DownloadFinalizedCallback",
    "ModelSearchResultEntryData",
    "ModelSearchResultDownloadOptionData",
    # The official SDK's names (lmstudio.history, lmstudio.schemas, lmstudio.json_api)
    "history",
    "schemas",
    "AnyChatMessage",
    "AnyChatMessageDict",
    "AssistantResponseContent",
    "ChatHistoryData",
    "ChatHistoryDataDict",
    "SystemPrompt",
    "SystemPromptContent",
    "TextData",
    "TextDataDict",
    "UserMessage",
    "UserMessageContent",
    "UserMessageDict",
    "AnyLMStudioStruct",
    "BaseModel",
    "DictObject",
    "DictSchema",
    "ModelSchema",
    "ResponseSchema",
    "ValidationError",
    "AnyAsyncDownloadedModel",
    "AnyLoadConfig",
    "AnyModelSpecifier",
    "ModelQueryDict",
    "ModelSpecifier",
    "ModelSpecifierDict",
    "PredictionFirstTokenCallback",
    "PredictionFragmentCallback",
    "PredictionMessageCallback",
    "PromptProcessingCallback",
    "SerializedLMSExtendedError",
]

# SDK errors leave public coroutines without the SDK's internal frames (see .tracebacks).
guard_classes(
    AsyncClient,
    AsyncSystemNamespace,
    AsyncModelNamespace,
    AsyncModelHandle,
    AsyncLLM,
    AsyncEmbeddingModel,
    AsyncDownloadedModel,
    AsyncPredictionStream,
    AsyncFilesNamespace,
    AsyncRepositoryNamespace,
    AsyncModelSearchResult,
    AsyncModelDownloadOption,
    AsyncClientPool,
    AsyncPoolLLMNamespace,
    AsyncPooledLLM,
    AsyncBatchResults,
)
llm = public_coroutine(llm)
embedding_model = public_coroutine(embedding_model)
list_loaded_models = public_coroutine(list_loaded_models)
list_downloaded_models = public_coroutine(list_downloaded_models)
close_default_client = public_coroutine(close_default_client)
prepare_image = public_coroutine(prepare_image)
prepare_file = public_coroutine(prepare_file)
