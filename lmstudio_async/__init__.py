"""lmstudio-async: an asyncio-first SDK for LM Studio.

Start with :class:`AsyncClient`::

    async with AsyncClient() as client:
        print(await client.system.version())
"""

from ._version import __version__
from .client import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, AsyncClient
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
from .listing import ModelNamespace
from .protocol import (
    EmbeddingModelInfo,
    EmbeddingModelInstanceInfo,
    LlmInfo,
    LlmInstanceInfo,
    ModelInfo,
    ModelInstanceInfo,
    VersionResult,
)
from .system import AsyncSystemNamespace

__all__ = [
    "__version__",
    "AsyncClient",
    "AsyncSystemNamespace",
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
