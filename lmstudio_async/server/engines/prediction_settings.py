"""The effective prediction config of one request (PROTOCOL.md 7.6-7.8)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...protocol import KVConfig, KVConfigStack
from ..api import ServerError
from .gbnf import Grammar, GrammarError, parse_gbnf
from .kv_schema import ConfigSchema, checked_value, collapse_stack, to_kvconfig
from .template import DEFAULT_PROMPT_TEMPLATE
from .tools import ToolOffer, tool_offer_from_config

__all__ = ["PredictionSettings", "resolve_prediction_settings", "default_prediction_config"]

_P = "llm.prediction."


def default_cpu_threads() -> int:
    """llama.cpp compute threads when the config names none: half the cores, at most 4.

    Not every core: llama.cpp's threads wait for each other at every step, so one thread
    stalled by another process stalls them all. Measured on 2 cores with the bundled model
    (tokens/s, median of 4 rounds): with the machine otherwise idle-ish, 1 thread 70, 2
    threads 66 (spread 25-93); with one other busy process, 1 thread 52, 2 threads 3. Four
    is LM Studio's own default.
    """
    return max(1, min(4, (os.cpu_count() or 1) // 2))


_SCHEMA = ConfigSchema.build(
    plain={
        _P + "temperature": 0.8,
        _P + "stopStrings": [],
        _P + "toolCallStopStrings": [],
        _P + "contextOverflowPolicy": "truncateMiddle",
        _P + "structured": {"type": "none"},
        _P + "tools": {"type": "none"},
        _P + "topKSampling": 40,
        _P + "llama.cpuThreads": default_cpu_threads(),
        _P + "promptTemplate": DEFAULT_PROMPT_TEMPLATE,
        _P + "systemPrompt": "",
        _P + "speculativeDecoding.draftModel": "",
        _P + "speculativeDecoding.numDraftTokensExact": 2,
        _P + "speculativeDecoding.minDraftLengthToConsider": 0,
        _P + "speculativeDecoding.minContinueDraftingProbability": 0.75,
        _P + "reasoning.parsing": {
            "enabled": True,
            "startString": "<think>",
            "endString": "</think>",
        },
    },
    checkboxes={
        _P + "maxPredictedTokens": (False, 1000),
        _P + "topPSampling": (True, 0.95),
        _P + "minPSampling": (True, 0.05),
        _P + "repeatPenalty": (True, 1.1),
        _P + "seed": (False, -1),
    },
)

#: The layer the official Python SDK adds to turn a chat prediction into raw completion.
_COMPLETION_LAYER = "completeModeFormatting"


@dataclass(frozen=True)
class PredictionSettings:
    """What an engine honours when predicting, plus the full config to report back."""

    #: ``None``: no limit.
    max_tokens: int | None
    stop_strings: tuple[str, ...]
    #: The JSON schema the reply must follow, when structured output was requested.
    json_schema: Mapping[str, Any] | None
    seed: int | None
    #: The effective ``promptTemplate`` value (wire form).
    prompt_template: Mapping[str, Any]
    #: The prompt is the messages' text as-is, without a chat template.
    raw_completion: bool
    #: ``contextOverflowPolicy`` is ``stopAtLimit``.
    stop_at_context_limit: bool
    values: Mapping[str, Any]
    #: The tools the model may call (``llm.prediction.tools`` and ``toolChoice``), if any.
    tools: ToolOffer | None = None
    #: The GBNF grammar the reply must follow (``structured`` of type ``gbnf``), checked.
    gbnf: Grammar | None = None

    def kvconfig(self) -> KVConfig:
        return to_kvconfig(self.values)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _max_tokens(checkbox: Mapping[str, Any]) -> int | None:
    value = checked_value(checkbox)
    if value is None:
        return None
    limit = _int_or_none(value)
    if limit is None or limit < -1:
        raise ServerError(
            f"Invalid maximum number of predicted tokens {value!r}",
            cause=f"{_P}maxPredictedTokens must be an integer >= -1 (-1: no limit).",
        )
    return None if limit == -1 else limit


def _stop_strings(value: Any, template: Mapping[str, Any]) -> tuple[str, ...]:
    template_stops = template.get("stopStrings") if isinstance(template, Mapping) else None
    strings = [*value, *(template_stops or [])] if isinstance(value, list) else None
    if strings is None or not all(isinstance(s, str) for s in strings):
        raise ServerError(
            f"Invalid stop strings {value!r}", cause=f"{_P}stopStrings must be a list of strings."
        )
    return tuple(dict.fromkeys(s for s in strings if s))


def _json_schema(structured: Any) -> Mapping[str, Any] | None:
    if not isinstance(structured, Mapping) or structured.get("type") != "json":
        return None
    schema = structured.get("jsonSchema")
    return schema if isinstance(schema, Mapping) else {}


def _gbnf(structured: Any) -> Grammar | None:
    if not isinstance(structured, Mapping) or structured.get("type") != "gbnf":
        return None
    text = structured.get("gbnfGrammar")
    if not isinstance(text, str):
        raise ServerError(
            "Invalid GBNF grammar: gbnfGrammar must be a string",
            suggestion='Send {"type": "gbnf", "gbnfGrammar": "root ::= ..."}.',
        )
    try:
        return parse_gbnf(text)
    except GrammarError as exc:
        raise ServerError(
            f"Invalid GBNF grammar: {exc}",
            cause=str(exc),
            suggestion="See llama.cpp's grammars/README.md for the GBNF syntax.",
        ) from None


def resolve_prediction_settings(stack: KVConfigStack) -> PredictionSettings:
    """Collapse ``stack`` over the server defaults and read what the engine honours."""
    collapsed = collapse_stack(stack)
    values = _SCHEMA.effective(collapsed)
    template = values[_P + "promptTemplate"]
    if not isinstance(template, Mapping):
        template = DEFAULT_PROMPT_TEMPLATE
    return PredictionSettings(
        max_tokens=_max_tokens(values[_P + "maxPredictedTokens"]),
        stop_strings=_stop_strings(values[_P + "stopStrings"], template),
        json_schema=_json_schema(values[_P + "structured"]),
        seed=_int_or_none(checked_value(values[_P + "seed"])),
        prompt_template=template,
        raw_completion=any(layer.layer_name == _COMPLETION_LAYER for layer in stack.layers),
        stop_at_context_limit=values[_P + "contextOverflowPolicy"] == "stopAtLimit",
        values=values,
        # toolChoice (a JS HEAD key) is honoured but not reported back: the official Python
        # SDK does not know it, and LM Studio R54 does not report it either.
        tools=tool_offer_from_config(values[_P + "tools"], collapsed.get(_P + "toolChoice")),
        gbnf=_gbnf(values[_P + "structured"]),
    )


def default_prediction_config() -> KVConfig:
    """The server's base prediction config, before any request's layers."""
    return to_kvconfig(_SCHEMA.effective({}))
