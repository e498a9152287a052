"""The ``predict`` channel: fragments, stats, stop reasons (PROTOCOL.md 6.2 and 10)."""

from __future__ import annotations

from typing import Literal

from .base import WireStruct
from .errors import SerializedLMSExtendedError
from .history import ChatHistoryData, FunctionToolCallRequest
from .kvconfig import KVConfig, KVConfigStack
from .models import LlmInstanceInfo, ModelSpecifier

__all__ = [
    "StopReason",
    "ReasoningType",
    "PredictParameter",
    "CompleteRawTextParameter",
    "LlmPredictionFragment",
    "LlmPredictionStats",
    "PromptProcessingDetails",
    "FragmentPacket",
    "PromptProcessingProgressPacket",
    "ToolCallGenerationStart",
    "ToolCallGenerationNameReceived",
    "ToolCallGenerationArgumentFragmentGenerated",
    "ToolCallGenerationEnd",
    "ToolCallGenerationFailed",
    "PredictionSuccess",
    "PredictionErrorPacket",
    "PredictPacket",
]

StopReason = Literal[
    "userStopped",
    "modelUnloaded",
    "failed",
    "eosFound",
    "stopStringFound",
    "toolCalls",
    "maxPredictedTokensReached",
    "contextLengthReached",
]
ReasoningType = Literal["none", "reasoning", "reasoningStartTag", "reasoningEndTag"]


class PredictParameter(WireStruct, kw_only=True):
    model_specifier: ModelSpecifier
    history: ChatHistoryData
    prediction_config_stack: KVConfigStack
    fuzzy_preset_identifier: str | None = None
    ignore_server_session_config: bool | None = None


class CompleteRawTextParameter(WireStruct, kw_only=True):
    model_specifier: ModelSpecifier
    raw_prompt: str
    prediction_config_stack: KVConfigStack
    fuzzy_preset_identifier: str | None = None
    ignore_server_session_config: bool | None = None


class LlmPredictionFragment(WireStruct, kw_only=True, omit_defaults=False, gc=False):
    """A piece of generated text, as the server streamed it.

    Every field is always encoded: R54 requires the first four, JS HEAD also
    ``isStructural``. The defaults only make decoding older servers lenient.
    Not GC-capable (its fields are scalars, so it is never part of a cycle): a burst's
    thousands of fragments then never set off the cyclic garbage collector.
    """

    content: str
    tokens_count: int = 1
    contains_drafted: bool = False
    reasoning_type: str = "none"
    # Required by JS HEAD, absent from R54; always sent by our server.
    is_structural: bool = False


class LlmPredictionStats(WireStruct, kw_only=True):
    stop_reason: str
    stop_string: str | None = None
    tokens_per_second: float | None = None
    num_gpu_layers: float | None = None
    time_to_first_token_sec: float | None = None
    total_time_sec: float | None = None
    prompt_tokens_count: int | None = None
    predicted_tokens_count: int | None = None
    total_tokens_count: int | None = None
    used_draft_model_key: str | None = None
    total_draft_tokens_count: int | None = None
    accepted_draft_tokens_count: int | None = None
    rejected_draft_tokens_count: int | None = None
    ignored_draft_tokens_count: int | None = None


class PromptProcessingDetails(WireStruct, kw_only=True):
    cached_token_count: int
    total_prompt_token_count: int
    processed_prompt_token_count: int
    unprocessed_prompt_token_count: int


# Not tracked by the garbage collector (gc=False): a stream holds thousands of these at
# once between the reader and the consumer, and tracking them made collections a fifth
# of a streamed fragment's cost. Safe because a fragment holds only scalars, so these
# can never be part of a reference cycle.
class FragmentPacket(WireStruct, tag_field="type", tag="fragment", kw_only=True, gc=False):
    fragment: LlmPredictionFragment


class PromptProcessingProgressPacket(
    WireStruct, tag_field="type", tag="promptProcessingProgress", kw_only=True
):
    progress: float
    details: PromptProcessingDetails | None = None


class ToolCallGenerationStart(
    WireStruct, tag_field="type", tag="toolCallGenerationStart", kw_only=True
):
    tool_call_id: str | None = None


class ToolCallGenerationNameReceived(
    WireStruct, tag_field="type", tag="toolCallGenerationNameReceived", kw_only=True
):
    name: str


class ToolCallGenerationArgumentFragmentGenerated(
    WireStruct, tag_field="type", tag="toolCallGenerationArgumentFragmentGenerated", kw_only=True
):
    content: str


class ToolCallGenerationEnd(
    WireStruct, tag_field="type", tag="toolCallGenerationEnd", kw_only=True
):
    tool_call_request: FunctionToolCallRequest
    raw_content: str | None = None


class ToolCallGenerationFailed(
    WireStruct, tag_field="type", tag="toolCallGenerationFailed", kw_only=True
):
    error: SerializedLMSExtendedError
    raw_content: str | None = None


class PredictionSuccess(WireStruct, tag_field="type", tag="success", kw_only=True):
    stats: LlmPredictionStats
    model_info: LlmInstanceInfo
    load_model_config: KVConfig
    prediction_config: KVConfig


class PredictionErrorPacket(WireStruct, tag_field="type", tag="error", kw_only=True):
    """Legacy in-channel error packet; still understood by the official Python SDK."""

    error: SerializedLMSExtendedError


PredictPacket = (
    FragmentPacket
    | PromptProcessingProgressPacket
    | ToolCallGenerationStart
    | ToolCallGenerationNameReceived
    | ToolCallGenerationArgumentFragmentGenerated
    | ToolCallGenerationEnd
    | ToolCallGenerationFailed
    | PredictionSuccess
    | PredictionErrorPacket
)
