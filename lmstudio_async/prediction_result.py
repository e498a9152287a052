"""A finished prediction (:class:`PredictionResult`) and the callbacks of a running one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .callbacks import Callback, Callback0
from .config import LLM_LOAD_CONFIG, LLM_PREDICTION_CONFIG, LlmLoadModelConfig, LlmPredictionConfig
from .protocol import (
    AssistantMessage,
    FunctionToolCallRequest,
    KVConfig,
    LlmInstanceInfo,
    LlmPredictionFragment,
    LlmPredictionStats,
)
from .protocol.base import format_json
from .structured import ResponseSchema

__all__ = ["PredictionCallbacks", "PredictionResult"]

_UNPARSED: Any = object()


@dataclass(frozen=True)
class PredictionCallbacks:
    """User callbacks of one prediction; each may be a plain or an async function."""

    on_message: Callback[AssistantMessage] | None = None
    on_first_token: Callback0 | None = None
    on_prediction_fragment: Callback[LlmPredictionFragment] | None = None
    on_prompt_processing_progress: Callback[float] | None = None


@dataclass
class PredictionResult:
    """A finished prediction. ``str(result)`` is its text."""

    content: str
    stats: LlmPredictionStats
    model_info: LlmInstanceInfo
    #: The configs as the server reported them (wire form); read them as
    #: :attr:`load_config` and :attr:`prediction_config`, converted on first access.
    _load_kv: KVConfig = field(repr=False)
    _prediction_kv: KVConfig = field(repr=False)
    #: Whether structured output was requested (then see :attr:`parsed`).
    structured: bool = False
    #: The tool calls the model requested (when tools were offered), in order, unexecuted.
    tool_call_requests: list[FunctionToolCallRequest] = field(default_factory=list)
    #: One message per tool call the model tried but failed to write correctly.
    tool_call_errors: list[str] = field(default_factory=list)
    _schema: ResponseSchema | None = field(default=None, repr=False, compare=False)
    _parsed: Any = field(default=_UNPARSED, repr=False, compare=False)
    _load_config: LlmLoadModelConfig | None = field(default=None, repr=False, compare=False)
    _prediction_config: LlmPredictionConfig | None = field(default=None, repr=False, compare=False)

    # Converted lazily: most callers never look, and converting both took a tenth of a
    # short prediction's client CPU when thousands run at once.
    @property
    def load_config(self) -> LlmLoadModelConfig:
        """The model's load config, as the server reported it."""
        if self._load_config is None:
            self._load_config = LLM_LOAD_CONFIG.from_kv_config(self._load_kv)
        return self._load_config

    @property
    def prediction_config(self) -> LlmPredictionConfig:
        """The prediction config the server applied."""
        if self._prediction_config is None:
            self._prediction_config = LLM_PREDICTION_CONFIG.from_kv_config(self._prediction_kv)
        return self._prediction_config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(content={self.content!r})"

    def __str__(self) -> str:
        """The text; for structured JSON output, the JSON indented (as the official SDK)."""
        if (
            self.structured
            and self._schema is not None
            and self._schema.setting.get("type") == "json"
        ):
            try:
                return format_json(json.loads(self.content))
            except ValueError:
                pass
        return self.content

    @property
    def parsed(self) -> Any:
        """The reply decoded per ``response_format``: an instance of the class given, or
        JSON values for a schema dict. Without structured output, the text itself.

        Raises :class:`LMStudioValueError` if the reply does not decode (the text
        stays available as :attr:`content`).
        """
        if self._parsed is _UNPARSED:
            self._parsed = (
                self.content if self._schema is None else self._schema.parse(self.content)
            )
        return self._parsed
