"""Parameters and results of the RPC endpoints (PROTOCOL.md 6)."""

from __future__ import annotations

from typing import Any

from .base import WireStruct
from .history import ChatHistoryData
from .kvconfig import KVConfigStack
from .models import ModelSpecifier

__all__ = [
    "UnloadModelParameter",
    "GetModelInfoParameter",
    "SpecifierParameter",
    "TokenizeParameter",
    "TokenizeResult",
    "CountTokensResult",
    "ApplyPromptTemplateOpts",
    "ApplyPromptTemplateParameter",
    "ApplyPromptTemplateResult",
    "PreloadDraftModelParameter",
    "EmbedStringParameter",
    "EmbedStringResult",
    "VersionResult",
    "NotifyParameter",
    "SetExperimentFlagParameter",
    "UploadFileBase64Parameter",
    "UploadFileBase64Result",
    "ModelSearchOpts",
    "SearchModelsParameter",
    "ModelSearchResultIdentifier",
    "ModelSearchResultEntry",
    "SearchModelsResult",
    "GetModelDownloadOptionsParameter",
    "ModelDownloadOption",
    "GetModelDownloadOptionsResult",
    "DownloadModelParameter",
    "DownloadProgressUpdate",
    "DownloadProgressPacket",
    "DownloadStartFinalizingPacket",
    "DownloadSuccessPacket",
    "SystemInfoResult",
    "ListDownloadedModelVariantsParameter",
    "PredictionInputLogData",
    "DiagnosticsLogEvent",
    "StreamLogsLogPacket",
    "StreamLogsStopPacket",
    "GetBasePredictionConfigParameter",
    "GetInstanceProcessingStateParameter",
    "InstanceProcessingState",
]


class UnloadModelParameter(WireStruct, kw_only=True):
    identifier: str


class SpecifierParameter(WireStruct, kw_only=True):
    """``getLoadConfig``: just a specifier."""

    specifier: ModelSpecifier


class GetModelInfoParameter(WireStruct, kw_only=True):
    specifier: ModelSpecifier
    throw_if_not_found: bool


class TokenizeParameter(WireStruct, kw_only=True):
    """``tokenize`` and ``countTokens`` take the same parameter."""

    specifier: ModelSpecifier
    input_string: str


class TokenizeResult(WireStruct, kw_only=True):
    tokens: list[int]


class CountTokensResult(WireStruct, kw_only=True):
    token_count: int


class ApplyPromptTemplateOpts(WireStruct, kw_only=True):
    omit_bos_token: bool | None = None
    omit_eos_token: bool | None = None
    tool_definitions: list[Any] | None = None


class ApplyPromptTemplateParameter(WireStruct, kw_only=True):
    specifier: ModelSpecifier
    history: ChatHistoryData
    prediction_config_stack: KVConfigStack
    opts: ApplyPromptTemplateOpts


class ApplyPromptTemplateResult(WireStruct, kw_only=True):
    formatted: str


class PreloadDraftModelParameter(WireStruct, kw_only=True):
    specifier: ModelSpecifier
    draft_model_key: str


class EmbedStringParameter(WireStruct, kw_only=True):
    model_specifier: ModelSpecifier
    input_string: str


class EmbedStringResult(WireStruct, kw_only=True):
    embedding: list[float]


class VersionResult(WireStruct, kw_only=True):
    version: str
    build: int


class NotifyParameter(WireStruct, kw_only=True):
    title: str
    description: str | None = None
    no_auto_dismiss: bool | None = None


class SetExperimentFlagParameter(WireStruct, kw_only=True):
    code: str
    value: bool


class UploadFileBase64Parameter(WireStruct, kw_only=True):
    name: str
    content_base64: str


class UploadFileBase64Result(WireStruct, kw_only=True):
    identifier: str
    file_type: str
    size_bytes: int


class ModelSearchOpts(WireStruct, kw_only=True):
    search_term: str | None = None
    limit: int | None = None
    compatibility_types: list[str] | None = None


class SearchModelsParameter(WireStruct, kw_only=True):
    opts: ModelSearchOpts


class ModelSearchResultIdentifier(WireStruct, kw_only=True):
    type: str  # "catalog" | "hf"
    identifier: str


class ModelSearchResultEntry(WireStruct, kw_only=True):
    name: str
    identifier: ModelSearchResultIdentifier
    exact: bool | None = None
    staff_pick: bool | None = None


class SearchModelsResult(WireStruct, kw_only=True):
    results: list[ModelSearchResultEntry]


class GetModelDownloadOptionsParameter(WireStruct, kw_only=True):
    model_search_result_identifier: ModelSearchResultIdentifier


class ModelDownloadOption(WireStruct, kw_only=True):
    name: str
    size_bytes: int
    fit_estimation: str
    download_identifier: str
    indexed_model_identifier: str
    quantization: str | None = None
    recommended: bool | None = None
    compatibility_type: str | None = None


class GetModelDownloadOptionsResult(WireStruct, kw_only=True):
    results: list[ModelDownloadOption]


class DownloadModelParameter(WireStruct, kw_only=True):
    download_identifier: str


class DownloadProgressUpdate(WireStruct, kw_only=True):
    downloaded_bytes: int
    total_bytes: int
    speed_bytes_per_second: float


class DownloadProgressPacket(WireStruct, tag_field="type", tag="downloadProgress", kw_only=True):
    update: DownloadProgressUpdate


class DownloadStartFinalizingPacket(
    WireStruct, tag_field="type", tag="startFinalizing", kw_only=True
):
    pass


class DownloadSuccessPacket(WireStruct, tag_field="type", tag="success", kw_only=True):
    default_identifier: str


class SystemInfoResult(WireStruct, kw_only=True):
    """``system/info`` (JS HEAD)."""

    pid: int
    is_daemon: bool
    version: str


class ListDownloadedModelVariantsParameter(WireStruct, kw_only=True):
    model_key: str


# --- diagnostics/streamLogs (a channel) ----------------------------------------


class PredictionInputLogData(
    WireStruct, tag_field="type", tag="llm.prediction.input", kw_only=True
):
    """The only log event kind known today: the formatted input of a prediction."""

    model_path: str
    model_identifier: str
    input: str


class DiagnosticsLogEvent(WireStruct, kw_only=True):
    #: Unix time in milliseconds.
    timestamp: float
    data: PredictionInputLogData


class StreamLogsLogPacket(WireStruct, tag_field="type", tag="log", kw_only=True):
    log: DiagnosticsLogEvent


class StreamLogsStopPacket(WireStruct, tag_field="type", tag="stop", kw_only=True):
    """Client to server: stop streaming logs."""


# --- newer base-model RPCs (JS HEAD, not in R54) -------------------------------


class GetBasePredictionConfigParameter(WireStruct, kw_only=True):
    specifier: ModelSpecifier
    ignore_server_session_config: bool | None = None


class GetInstanceProcessingStateParameter(WireStruct, kw_only=True):
    specifier: ModelSpecifier
    throw_if_not_found: bool


class InstanceProcessingState(WireStruct, kw_only=True):
    #: ``idle``, ``processingPrompt``, ``generating`` or ``computingEmbedding``.
    status: str
    #: Requests waiting for the instance.
    queued: int
