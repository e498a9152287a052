"""Building ``predict`` requests from what users pass (validated before anything is sent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from .chat import ChatHistoryInput, to_history
from .config import LLM_PREDICTION_CONFIG, LlmPredictionConfig
from .errors import LMStudioValueError
from .protocol import (
    ApplyPromptTemplateOpts,
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
from .validation import check_encodable, check_text

__all__ = [
    "PredictionConfigInput",
    "build_chat_request",
    "build_completion_request",
    "template_opts",
]

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


def _preset(preset: str | None) -> str | None:
    # Sent as the official SDK sends it: the predict channel's fuzzyPresetIdentifier.
    return None if preset is None else check_text(preset, "preset")


def _checked(parameter: PredictParameter) -> PredictParameter:
    """The request, once it is known to encode (else an error naming the argument)."""
    try:
        msgspec.json.encode(parameter)
    except (UnicodeEncodeError, RecursionError, TypeError, ValueError, OverflowError):
        check_encodable(
            parameter.history, "history", "a Chat, a chat-history dict or a string of valid text"
        )
        check_encodable(
            parameter.prediction_config_stack,
            "config / response_format",
            "settings and JSON schemas of valid text, nested less than a few hundred levels",
        )
        raise
    return parameter


def build_chat_request(
    specifier: ModelSpecifier,
    history: ChatHistoryInput,
    config: PredictionConfigInput,
    response_format: ResponseFormat | None,
    preset: str | None = None,
) -> tuple[PredictParameter, ResponseSchema | None]:
    layers, schema = _config_stack(config, response_format)
    parameter = PredictParameter(
        model_specifier=specifier,
        history=to_history(history),
        prediction_config_stack=KVConfigStack(layers=layers),
        fuzzy_preset_identifier=_preset(preset),
    )
    return _checked(parameter), schema


def build_completion_request(
    specifier: ModelSpecifier,
    prompt: str,
    config: PredictionConfigInput,
    response_format: ResponseFormat | None,
    preset: str | None = None,
) -> tuple[PredictParameter, ResponseSchema | None]:
    check_text(prompt, "prompt")
    layers, schema = _config_stack(config, response_format)
    history = ChatHistoryData(messages=[UserMessage(content=[TextPart(text=prompt)])])
    parameter = PredictParameter(
        model_specifier=specifier,
        history=history,
        prediction_config_stack=KVConfigStack(layers=[*layers, _RAW_COMPLETION_LAYER]),
        fuzzy_preset_identifier=_preset(preset),
    )
    return _checked(parameter), schema


def template_opts(
    opts: ApplyPromptTemplateOpts | Mapping[str, Any] | None,
    omit_bos_token: bool | None,
    omit_eos_token: bool | None,
) -> ApplyPromptTemplateOpts:
    """``apply_prompt_template``'s options: the official's ``opts`` dict, and our keywords."""
    if opts is None:
        options = ApplyPromptTemplateOpts()
    elif isinstance(opts, ApplyPromptTemplateOpts):
        options = opts
    elif isinstance(opts, Mapping):
        try:
            options = ApplyPromptTemplateOpts.from_dict(opts)
        except (msgspec.ValidationError, RecursionError) as exc:
            raise LMStudioValueError(
                f"Invalid opts {dict(opts)!r} ({exc}); valid keys: omitBosToken, omitEosToken."
            ) from None
    else:
        raise LMStudioValueError(
            f"opts must be a dict such as {{'omitBosToken': True}}, not {type(opts).__name__}."
        )
    if omit_bos_token is not None:
        options = msgspec.structs.replace(options, omit_bos_token=omit_bos_token)
    if omit_eos_token is not None:
        options = msgspec.structs.replace(options, omit_eos_token=omit_eos_token)
    return options
