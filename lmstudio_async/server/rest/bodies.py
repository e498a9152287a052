"""Reading request bodies: JSON decoded straight into typed structs, errors in OpenAI's shape.

Fields LM Studio does not document are accepted and ignored, as LM Studio does
(``n``, ``logprobs``, ``user``...). Every list a client sends is bounded.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from .errors import RestError, bad_request, missing_parameter

__all__ = [
    "MAX_LIST_ITEMS",
    "ImageUrl",
    "ContentPart",
    "FunctionCallIn",
    "ToolCallIn",
    "MessageIn",
    "FunctionDefinition",
    "ToolIn",
    "JsonSchemaFormat",
    "ResponseFormat",
    "StreamOptions",
    "Sampling",
    "ChatCompletionRequest",
    "CompletionRequest",
    "EmbeddingRequest",
    "read_body",
    "check_count",
]

T = TypeVar("T")

#: The most messages, tools, stop strings or embedding inputs one request may carry.
MAX_LIST_ITEMS = 4096
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


class _Body(msgspec.Struct, kw_only=True):
    pass


class ImageUrl(_Body, kw_only=True):
    url: str


class ContentPart(_Body, kw_only=True):
    type: str
    text: str | None = None
    image_url: ImageUrl | str | None = None


class FunctionCallIn(_Body, kw_only=True):
    name: str
    #: A JSON text (OpenAI's form); an object is accepted too.
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(_Body, kw_only=True):
    id: str | None = None
    type: str = "function"
    function: FunctionCallIn


class MessageIn(_Body, kw_only=True):
    role: str
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None


class FunctionDefinition(_Body, kw_only=True):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolIn(_Body, kw_only=True):
    type: str = "function"
    function: FunctionDefinition


class JsonSchemaFormat(_Body, kw_only=True):
    name: str | None = None
    schema: dict[str, Any] | None = None
    # LM Studio's own example sends "true" as a string (REST.md 5.5).
    strict: bool | str | None = None


class ResponseFormat(_Body, kw_only=True):
    type: str
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Body, kw_only=True):
    include_usage: bool = False


class Sampling(_Body, kw_only=True):
    """The sampling fields every prediction route shares."""

    model: str | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    repeat_penalty: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stream_options: StreamOptions | None = None
    ttl: int | None = None
    draft_model: str | None = None


class ChatCompletionRequest(Sampling, kw_only=True):
    messages: list[MessageIn]
    tools: list[ToolIn] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: ResponseFormat | None = None


class CompletionRequest(Sampling, kw_only=True):
    prompt: str | list[str]


class EmbeddingRequest(_Body, kw_only=True):
    model: str | None = None
    input: str | list[str]
    encoding_format: str | None = None
    dimensions: int | None = None
    ttl: int | None = None


def _decode_error(exc: msgspec.ValidationError | msgspec.DecodeError) -> RestError:
    text = str(exc)
    missing = _MISSING_FIELD.search(text)
    if missing is not None:
        at = _AT_PATH.search(text)
        prefix = f"{at.group(1)}." if at and at.group(1) else ""
        return missing_parameter(prefix + missing.group(1))
    if isinstance(exc, msgspec.ValidationError):
        at = _AT_PATH.search(text)
        return bad_request(f"Invalid request body: {text}", param=at.group(1) if at else None)
    return bad_request(f"The request body is not valid JSON: {text}")


async def read_body(request: web.Request, body_type: type[T]) -> T:
    """The request's JSON body as ``body_type``; :class:`RestError` (400/413) if it is not one."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise RestError(413, f"The request body is too large: {exc.text}") from None
    if not raw.strip():
        raise bad_request("The request body is empty; send a JSON object.")
    try:
        return msgspec.json.decode(raw, type=body_type)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise _decode_error(exc) from None


def check_count(name: str, items: list[Any] | None) -> None:
    if items is not None and len(items) > MAX_LIST_ITEMS:
        raise bad_request(
            f"'{name}' has {len(items)} items; at most {MAX_LIST_ITEMS} are accepted", param=name
        )
