"""Names the official SDK gives to unions and callback types, for type hints that move over.

``AnyModelSpecifier``, ``PredictionFragmentCallback``... mean here what they mean
in ``lmstudio``; annotate with them, or with the types they stand for.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from typing_extensions import TypedDict

from .callbacks import Callback, Callback0
from .chat import AssistantResponse
from .config import EmbeddingLoadModelConfig, LlmLoadModelConfig
from .downloaded import AsyncDownloadedEmbeddingModel, AsyncDownloadedLlm
from .protocol import (
    InstanceReferenceSpecifier,
    LlmPredictionFragment,
    ModelSpecifier,
    SerializedLMSExtendedError,
)
from .specifiers import ModelSpecifierInput

__all__ = [
    "AnyAsyncDownloadedModel",
    "AnyLoadConfig",
    "AnyModelSpecifier",
    "InstanceReferenceSpecifier",
    "ModelQueryDict",
    "ModelSpecifier",
    "ModelSpecifierDict",
    "PredictionFirstTokenCallback",
    "PredictionFragmentCallback",
    "PredictionMessageCallback",
    "PromptProcessingCallback",
    "SerializedLMSExtendedError",
]

#: Either kind of load config.
AnyLoadConfig: TypeAlias = EmbeddingLoadModelConfig | LlmLoadModelConfig
#: Anything that selects a loaded model: an identifier, a query, a specifier, or a dict form.
AnyModelSpecifier: TypeAlias = ModelSpecifierInput
#: A downloaded model of either kind.
AnyAsyncDownloadedModel: TypeAlias = AsyncDownloadedLlm | AsyncDownloadedEmbeddingModel

#: ``on_first_token``: called once, with no argument.
PredictionFirstTokenCallback: TypeAlias = Callback0
#: ``on_prediction_fragment``: called with each fragment.
PredictionFragmentCallback: TypeAlias = Callback[LlmPredictionFragment]
#: ``on_message``: called with the finished assistant message.
PredictionMessageCallback: TypeAlias = Callback[AssistantResponse]
#: ``on_prompt_processing_progress``: called with progress from 0.0 to 1.0.
PromptProcessingCallback: TypeAlias = Callback[float]


class ModelQueryDict(TypedDict, total=False):
    """A :class:`ModelQuery` as a dict."""

    domain: str
    identifier: str
    path: str
    vision: bool


class _QuerySpecifierDict(TypedDict):
    type: Literal["query"]
    query: ModelQueryDict


class _InstanceReferenceSpecifierDict(TypedDict):
    type: Literal["instanceReference"]
    instanceReference: str


#: A wire model specifier as a dict.
ModelSpecifierDict: TypeAlias = _QuerySpecifierDict | _InstanceReferenceSpecifierDict
