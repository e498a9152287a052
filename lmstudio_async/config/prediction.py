"""Prediction configs: how an LLM generates (PROTOCOL.md 7.7, and ``seed`` from 7.8)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta
from typing_extensions import TypedDict

from .load import _Config
from .mapping import ConfigSchema, Setting

__all__ = [
    "ContextOverflowPolicy",
    "ReasoningParsing",
    "StructuredSetting",
    "LlmPredictionConfig",
    "LlmPredictionConfigDict",
    "LLM_PREDICTION_CONFIG",
]

ContextOverflowPolicy = Literal["stopAtLimit", "truncateMiddle", "rollingWindow"]
Probability = Annotated[float, Meta(ge=0, le=1)]


class ReasoningParsing(_Config, kw_only=True):
    """Where reasoning ("thinking") text starts and ends in the model's output."""

    enabled: bool
    start_string: str
    end_string: str


class StructuredSetting(_Config, kw_only=True):
    """Constrain output to JSON matching ``json_schema``, or to a GBNF grammar."""

    type: Literal["none", "json", "gbnf"]
    json_schema: dict[str, Any] | None = None
    gbnf_grammar: str | None = None


class LlmPredictionConfig(_Config, kw_only=True):
    """How to generate; unset settings keep the model's and server's defaults.

    ``max_tokens=False`` removes the length limit.
    """

    temperature: Annotated[float, Meta(ge=0)] | None = None
    max_tokens: Annotated[int, Meta(ge=-1)] | Literal[False] | None = None
    stop_strings: list[str] | None = None
    tool_call_stop_strings: list[str] | None = None
    context_overflow_policy: ContextOverflowPolicy | None = None
    structured: StructuredSetting | None = None
    raw_tools: dict[str, Any] | None = None
    tool_choice: dict[str, Any] | None = None
    top_k_sampling: Annotated[int, Meta(ge=-1, le=500)] | None = None
    top_p_sampling: Probability | Literal[False] | None = None
    min_p_sampling: Probability | Literal[False] | None = None
    repeat_penalty: Annotated[float, Meta(gt=0)] | Literal[False] | None = None
    presence_penalty: float | Literal[False] | None = None
    seed: int | Literal[False] | None = None
    cpu_threads: Annotated[int, Meta(ge=1)] | None = None
    prompt_template: dict[str, Any] | None = None
    draft_model: str | None = None
    speculative_decoding_num_draft_tokens_exact: Annotated[int, Meta(ge=1)] | None = None
    speculative_decoding_min_draft_length_to_consider: Annotated[int, Meta(ge=0)] | None = None
    speculative_decoding_min_continue_drafting_probability: Probability | None = None
    reasoning_parsing: ReasoningParsing | None = None


class LlmPredictionConfigDict(TypedDict, total=False):
    """:class:`LlmPredictionConfig` as a dict (snake_case keys are accepted too)."""

    temperature: float
    maxTokens: int | Literal[False]
    stopStrings: list[str]
    toolCallStopStrings: list[str]
    contextOverflowPolicy: ContextOverflowPolicy
    structured: dict[str, Any]
    rawTools: dict[str, Any]
    toolChoice: dict[str, Any]
    topKSampling: int
    topPSampling: float | Literal[False]
    minPSampling: float | Literal[False]
    repeatPenalty: float | Literal[False]
    presencePenalty: float | Literal[False]
    seed: int | Literal[False]
    cpuThreads: int
    promptTemplate: dict[str, Any]
    draftModel: str
    speculativeDecodingNumDraftTokensExact: int
    speculativeDecodingMinDraftLengthToConsider: int
    speculativeDecodingMinContinueDraftingProbability: float
    reasoningParsing: dict[str, Any]


def _p(name: str, key: str, checkbox: bool = False, off: Any = None) -> Setting:
    return Setting(name, f"llm.prediction.{key}", checkbox=checkbox, off_value=off)


LLM_PREDICTION_CONFIG = ConfigSchema(
    LlmPredictionConfig,
    [
        _p("temperature", "temperature"),
        # Unchecked means "no limit"; the value is LM Studio's placeholder default.
        _p("maxTokens", "maxPredictedTokens", True, off=1000),
        _p("stopStrings", "stopStrings"),
        _p("toolCallStopStrings", "toolCallStopStrings"),
        _p("contextOverflowPolicy", "contextOverflowPolicy"),
        _p("structured", "structured"),
        _p("rawTools", "tools"),
        _p("toolChoice", "toolChoice"),
        _p("topKSampling", "topKSampling"),
        _p("topPSampling", "topPSampling", True, off=0.95),
        _p("minPSampling", "minPSampling", True, off=0.05),
        _p("repeatPenalty", "repeatPenalty", True, off=1.1),
        _p("presencePenalty", "llama.presencePenalty", True, off=0),
        _p("seed", "seed", True, off=-1),
        _p("cpuThreads", "llama.cpuThreads"),
        _p("promptTemplate", "promptTemplate"),
        _p("draftModel", "speculativeDecoding.draftModel"),
        _p("speculativeDecodingNumDraftTokensExact", "speculativeDecoding.numDraftTokensExact"),
        _p(
            "speculativeDecodingMinDraftLengthToConsider",
            "speculativeDecoding.minDraftLengthToConsider",
        ),
        _p(
            "speculativeDecodingMinContinueDraftingProbability",
            "speculativeDecoding.minContinueDraftingProbability",
        ),
        _p("reasoningParsing", "reasoning.parsing"),
    ],
    label="prediction config",
    nested={"structured": StructuredSetting, "reasoningParsing": ReasoningParsing},
)
