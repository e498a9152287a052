"""OpenAI-style request fields as the websocket API's inputs: chat history and config layer."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from typing import Any

from ...protocol import (
    AssistantMessage,
    ChatHistoryData,
    ChatMessage,
    FilePart,
    FunctionToolCallRequest,
    KVConfig,
    KVConfigField,
    KVConfigStack,
    KVConfigStackLayer,
    SystemMessage,
    TextPart,
    ToolCallRequestPart,
    ToolCallResultPart,
    ToolMessage,
    UserMessage,
)
from .bodies import ChatCompletionRequest, ContentPart, MessageIn, Sampling, ToolIn, check_count
from .errors import bad_request

__all__ = [
    "image_part",
    "parse_arguments",
    "chat_history",
    "text_history",
    "prediction_stack",
    "MAX_STOP_STRINGS",
]

logger = logging.getLogger(__name__)

_P = "llm.prediction."
#: The config layer LM Studio gives the fields of an HTTP request.
_LAYER = "httpServerRequestOverride"
MAX_STOP_STRINGS = 16
_ROLES = ("system", "developer", "user", "assistant", "tool")


def image_part(url: str, where: str) -> FilePart:
    # Images travel as data URLs; the engines see them as file parts, like SDK uploads.
    header, comma, payload = url.partition(",")
    if not (url.startswith("data:") and comma and ";base64" in header):
        raise bad_request(
            f"{where}: only base64 data URLs (data:image/png;base64,...) are supported for images",
            param=where,
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{where}: the image is not valid base64", param=where) from None
    digest = hashlib.sha256(data).hexdigest()[:24]
    return FilePart(
        name=f"image-{digest}", identifier=digest, size_bytes=len(data), file_type="image"
    )


def _parts(content: str | list[ContentPart] | None, where: str) -> list[TextPart | FilePart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)]
    check_count(where, content)
    parts: list[TextPart | FilePart] = []
    for index, part in enumerate(content):
        at = f"{where}[{index}]"
        if part.type in ("text", "input_text", "output_text") and part.text is not None:
            parts.append(TextPart(text=part.text))
        elif part.type in ("image_url", "input_image") and part.image_url is not None:
            url = part.image_url if isinstance(part.image_url, str) else part.image_url.url
            parts.append(image_part(url, at))
        else:
            raise bad_request(
                f"{at}: unsupported content part of type {part.type!r} (use 'text' or 'image_url')",
                param=at,
            )
    return parts


def parse_arguments(raw: str | dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise bad_request(f"{where}: arguments are not valid JSON ({exc})", param=where) from None
    if not isinstance(value, dict):
        raise bad_request(f"{where}: arguments must be a JSON object", param=where)
    return value


def _message(message: MessageIn, where: str) -> ChatMessage:
    role = message.role
    if role in ("system", "developer"):
        # LM Studio reads "developer" as "system" (REST.md 5.1).
        return SystemMessage(content=_parts(message.content, f"{where}.content"))
    if role == "user":
        return UserMessage(content=_parts(message.content, f"{where}.content"))
    if role == "assistant":
        content: list[TextPart | FilePart | ToolCallRequestPart] = []
        content.extend(_parts(message.content, f"{where}.content"))
        for index, call in enumerate(message.tool_calls or ()):
            at = f"{where}.tool_calls[{index}]"
            request = FunctionToolCallRequest(
                name=call.function.name,
                id=call.id,
                arguments=parse_arguments(call.function.arguments, f"{at}.function.arguments"),
            )
            content.append(ToolCallRequestPart(tool_call_request=request))
        return AssistantMessage(content=content)
    if role == "tool":
        text = "".join(
            part.text
            for part in _parts(message.content, f"{where}.content")
            if isinstance(part, TextPart)
        )
        return ToolMessage(
            content=[
                ToolCallResultPart(
                    content=text, tool_call_id=message.tool_call_id, name=message.name
                )
            ]
        )
    raise bad_request(
        f"{where}.role: unknown role {role!r}; expected one of {', '.join(_ROLES)}",
        param=f"{where}.role",
    )


def chat_history(messages: list[MessageIn], *, field: str = "messages") -> ChatHistoryData:
    check_count(field, messages)
    if not messages:
        raise bad_request(f"'{field}' must contain at least one message", param=field)
    return ChatHistoryData(
        messages=[_message(message, f"{field}[{i}]") for i, message in enumerate(messages)]
    )


def text_history(system: str | None, turns: list[tuple[str, str]]) -> ChatHistoryData:
    """A history from plain text: an optional system prompt and ``(role, text)`` turns."""
    messages: list[ChatMessage] = []
    if system:
        messages.append(SystemMessage(content=[TextPart(text=system)]))
    for role, text in turns:
        if role == "assistant":
            messages.append(AssistantMessage(content=[TextPart(text=text)]))
        else:
            messages.append(UserMessage(content=[TextPart(text=text)]))
    return ChatHistoryData(messages=messages)


def _stop_strings(stop: str | list[str] | None) -> list[str] | None:
    if stop is None:
        return None
    strings = [stop] if isinstance(stop, str) else stop
    if len(strings) > MAX_STOP_STRINGS:
        raise bad_request(
            f"'stop' has {len(strings)} strings; at most {MAX_STOP_STRINGS} are accepted",
            param="stop",
        )
    return [s for s in strings if s]


def _max_tokens(body: Sampling) -> int | None:
    limit = body.max_tokens if body.max_tokens is not None else body.max_completion_tokens
    if limit is None:
        return None
    if limit < -1 or limit == 0:
        raise bad_request(
            f"'max_tokens' must be a positive integer or -1 (no limit), got {limit}",
            param="max_tokens",
        )
    return limit


def _tool_definitions(tools: list[ToolIn]) -> list[dict[str, Any]]:
    check_count("tools", tools)
    definitions = []
    for index, tool in enumerate(tools):
        if tool.type != "function":
            raise bad_request(
                f"tools[{index}].type: only 'function' tools are supported, got {tool.type!r}",
                param=f"tools[{index}].type",
            )
        function: dict[str, Any] = {"name": tool.function.name}
        if tool.function.description is not None:
            function["description"] = tool.function.description
        # Tools without parameters are allowed (REST.md 5.4).
        function["parameters"] = tool.function.parameters or {"type": "object", "properties": {}}
        definitions.append({"type": "function", "function": function})
    return definitions


def _tools_setting(body: ChatCompletionRequest) -> dict[str, Any] | None:
    """``llm.prediction.tools`` for ``tools`` / ``tool_choice`` (``None``: leave the default).

    ``"required"`` and the named form (``{"type": "function", "function": {"name"}}``)
    force a tool call; the named form also narrows the tools to the one named.
    """
    if not body.tools:
        return None
    definitions = _tool_definitions(body.tools)
    choice = body.tool_choice
    if choice is None or choice == "auto":
        return {"type": "toolArray", "tools": definitions}
    if choice == "none":
        return {"type": "none"}
    if choice == "required":
        return {"type": "toolArray", "tools": definitions, "force": True}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        chosen = [d for d in definitions if d["function"]["name"] == name]
        if not chosen:
            known = ", ".join(d["function"]["name"] for d in definitions)
            raise bad_request(
                f"tool_choice names the function {name!r}, which is not in 'tools' ({known})",
                param="tool_choice",
            )
        return {"type": "toolArray", "tools": chosen, "force": True}
    raise bad_request(
        f"'tool_choice' must be 'auto', 'none', 'required' or a function, got {choice!r}",
        param="tool_choice",
    )


def _structured(body: ChatCompletionRequest) -> dict[str, Any] | None:
    response_format = body.response_format
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type != "json_schema":
        # LM Studio's answer to json_object (REST.md 5.5).
        raise bad_request(
            "'response_format.type' must be 'json_schema' or 'text'", param="response_format.type"
        )
    spec = response_format.json_schema
    if spec is None or spec.schema is None:
        raise bad_request(
            "'response_format.json_schema.schema' is required for json_schema",
            param="response_format.json_schema.schema",
            code="missing_required_parameter",
        )
    return {"type": "json", "jsonSchema": spec.schema}


def prediction_stack(body: Sampling, extra: dict[str, Any] | None = None) -> KVConfigStack:
    """The request's sampling fields as one config layer, over the server's defaults."""
    values: dict[str, Any] = {}
    if body.temperature is not None:
        values[_P + "temperature"] = body.temperature
    if body.top_p is not None:
        values[_P + "topPSampling"] = {"checked": True, "value": body.top_p}
    if body.top_k is not None:
        values[_P + "topKSampling"] = body.top_k
    if body.min_p is not None:
        values[_P + "minPSampling"] = {"checked": True, "value": body.min_p}
    if body.repeat_penalty is not None:
        values[_P + "repeatPenalty"] = {"checked": True, "value": body.repeat_penalty}
    max_tokens = _max_tokens(body)
    if max_tokens is not None:
        values[_P + "maxPredictedTokens"] = {"checked": max_tokens != -1, "value": max_tokens}
    stop = _stop_strings(body.stop)
    if stop is not None:
        values[_P + "stopStrings"] = stop
    if body.seed is not None:
        values[_P + "seed"] = {"checked": True, "value": body.seed}
    if isinstance(body, ChatCompletionRequest):
        structured = _structured(body)
        if structured is not None:
            values[_P + "structured"] = structured
        tools = _tools_setting(body)
        if tools is not None:
            values[_P + "tools"] = tools
    values.update(extra or {})
    fields = [KVConfigField(key=key, value=value) for key, value in values.items()]
    return KVConfigStack(
        layers=[KVConfigStackLayer(layer_name=_LAYER, config=KVConfig(fields=fields))]
    )
