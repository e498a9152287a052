"""Building ``predict`` requests from what users pass (validated before anything is sent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .chat import ChatHistoryInput, to_history
from .config import LLM_PREDICTION_CONFIG, LlmPredictionConfig
from .errors import LMStudioValueError
from .protocol import (
    ChatHistoryData,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    ModelSpecifier,
    PredictParameter,
    TextPart,
    UserMessage,
)
from .structured import ResponseFormat, ResponseSchema, structured_from

__all__ = ["PredictionConfigInput", "build_chat_request", "build_completion_request"]

PredictionConfigInput = LlmPredictionConfig | Mapping[str, Any] | None

# A pass-through template: the prompt reaches the model exactly as given (PROTOCOL.md 7.6).
_RAW_COMPLETION_LAYER: Final = KVConfigStackLayer(
    layer_name="completeModeFormatting",
    config=KVConfig(
        fields=[
            KVConfigField(
                key="llm.prediction.promptTemplate",
                value={
                    "type": "jinja",
                    "jinjaPromptTemplate": {
                        "bosToken": "",
                        "eosToken": "",
                        "template": (
                            "{% for message in messages %}{{ message['content'] }}{% endfor %}"
                        ),
                        "inputConfig": {
                            "messagesConfig": {"contentConfig": {"type": "string"}},
                            "useTools": False,
                        },
                    },
                    "stopStrings": [],
                },
            )
        ]
    ),
)


def _config_stack(
    config: PredictionConfigInput, response_format: ResponseFormat | None
) -> tuple[list[KVConfigStackLayer], ResponseSchema | None]:
    parsed = LLM_PREDICTION_CONFIG.parse(config)
    schema = None
    if response_format is not None:
        if parsed.structured is not None:
            raise LMStudioValueError(
                "Pass structured output either as response_format= or as config['structured'], "
                "not both."
            )
        schema = structured_from(response_format)
    kv = LLM_PREDICTION_CONFIG.to_kv_config(parsed)
    if schema is not None:
        kv.fields.append(KVConfigField(key="llm.prediction.structured", value=schema.setting))
    elif parsed.structured is not None and parsed.structured.type != "none":
        # Structured output given as a config setting: still parse the reply as JSON.
        schema = ResponseSchema(kv.as_dict()["llm.prediction.structured"], None)
    return [KVConfigStackLayer(layer_name="apiOverride", config=kv)], schema


def build_chat_request(
    specifier: ModelSpecifier,
    history: ChatHistoryInput,
    config: PredictionConfigInput,
    response_format: ResponseFormat | None,
) -> tuple[PredictParameter, ResponseSchema | None]:
    layers, schema = _config_stack(config, response_format)
    parameter = PredictParameter(
        model_specifier=specifier,
        history=to_history(history),
        prediction_config_stack=KVConfigStack(layers=layers),
    )
    return parameter, schema


def build_completion_request(
    specifier: ModelSpecifier,
    prompt: str,
    config: PredictionConfigInput,
    response_format: ResponseFormat | None,
) -> tuple[PredictParameter, ResponseSchema | None]:
    if not isinstance(prompt, str):
        raise LMStudioValueError(
            f"A completion prompt must be a string, not {type(prompt).__name__}."
        )
    layers, schema = _config_stack(config, response_format)
    history = ChatHistoryData(messages=[UserMessage(content=[TextPart(text=prompt)])])
    parameter = PredictParameter(
        model_specifier=specifier,
        history=history,
        prediction_config_stack=KVConfigStack(layers=[*layers, _RAW_COMPLETION_LAYER]),
    )
    return parameter, schema
