"""The request side of ``POST /v1/responses``: its body, and its input as a chat history."""

from __future__ import annotations

from typing import Any

import msgspec

from ...protocol import (
    AssistantMessage,
    ChatMessage,
    FilePart,
    FunctionToolCallRequest,
    SystemMessage,
    TextPart,
    ToolCallRequestPart,
    ToolCallResultPart,
    ToolMessage,
    UserMessage,
)
from .bodies import (
    ChatCompletionRequest,
    ContentPart,
    FunctionDefinition,
    JsonSchemaFormat,
    ResponseFormat,
    ToolIn,
    check_count,
)
from .chat_input import image_part, parse_arguments
from .errors import RestError, bad_request, missing_parameter

__all__ = ["ResponseRequest", "input_messages", "as_chat_request"]


class InputItem(msgspec.Struct, kw_only=True):
    type: str = "message"
    role: str | None = None
    content: str | list[ContentPart] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None


class FlatTool(msgspec.Struct, kw_only=True):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class TextFormat(msgspec.Struct, kw_only=True):
    type: str
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | str | None = None


class TextOptions(msgspec.Struct, kw_only=True):
    format: TextFormat | None = None


class ResponseRequest(msgspec.Struct, kw_only=True):
    model: str | None = None
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    store: bool = True
    stream: bool = False
    tools: list[FlatTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    text: TextOptions | None = None
    ttl: int | None = None


def input_messages(body: ResponseRequest) -> list[ChatMessage]:
    if body.input is None:
        raise missing_parameter("input")
    if isinstance(body.input, str):
        return [UserMessage(content=[TextPart(text=body.input)])]
    check_count("input", body.input)
    messages: list[ChatMessage] = []
    for index, item in enumerate(body.input):
        where = f"input[{index}]"
        if item.type == "message":
            parts = _parts(item.content, f"{where}.content")
            if item.role in ("system", "developer"):
                messages.append(SystemMessage(content=parts))
            elif item.role == "assistant":
                messages.append(AssistantMessage(content=list(parts)))
            elif item.role == "user":
                messages.append(UserMessage(content=parts))
            else:
                raise bad_request(
                    f"{where}.role: unknown role {item.role!r}", param=f"{where}.role"
                )
        elif item.type == "function_call":
            arguments = parse_arguments(item.arguments or "{}", f"{where}.arguments")
            request = FunctionToolCallRequest(
                name=item.name or "", id=item.call_id, arguments=arguments
            )
            messages.append(
                AssistantMessage(content=[ToolCallRequestPart(tool_call_request=request)])
            )
        elif item.type == "function_call_output":
            result = ToolCallResultPart(content=item.output or "", tool_call_id=item.call_id)
            messages.append(ToolMessage(content=[result]))
        else:
            raise bad_request(
                f"{where}.type: unsupported input item type {item.type!r}", param=f"{where}.type"
            )
    return messages


def _parts(content: str | list[ContentPart] | None, where: str) -> list[TextPart | FilePart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)]
    parts: list[TextPart | FilePart] = []
    for index, part in enumerate(content):
        if part.type in ("input_text", "output_text", "text") and part.text is not None:
            parts.append(TextPart(text=part.text))
        elif part.type == "input_image" and part.image_url is not None:
            url = part.image_url if isinstance(part.image_url, str) else part.image_url.url
            parts.append(image_part(url, f"{where}[{index}]"))
        else:
            raise bad_request(
                f"{where}[{index}]: unsupported content part {part.type!r}",
                param=f"{where}[{index}]",
            )
    return parts


def as_chat_request(body: ResponseRequest) -> ChatCompletionRequest:
    """The sampling, tool and format fields in chat-completions form, to build the config."""
    tools = None
    if body.tools:
        tools = []
        for index, tool in enumerate(body.tools):
            if tool.type != "function" or not tool.name:
                raise bad_request(
                    f"tools[{index}]: only function tools with a name are supported "
                    f"(got type {tool.type!r})",
                    param=f"tools[{index}]",
                )
            tools.append(
                ToolIn(
                    function=FunctionDefinition(
                        name=tool.name, description=tool.description, parameters=tool.parameters
                    )
                )
            )
    choice = body.tool_choice
    if isinstance(choice, dict) and choice.get("type") == "function" and "name" in choice:
        choice = {"type": "function", "function": {"name": choice["name"]}}
    response_format = None
    if body.text is not None:
        fmt = body.text.format
        if fmt is None:
            # LM Studio's answer to "text": {} (REST.md 8.1).
            raise RestError(400, "Required", param="text.format", code="missing_required_parameter")
        response_format = ResponseFormat(
            type=fmt.type,
            json_schema=JsonSchemaFormat(name=fmt.name, schema=fmt.schema, strict=fmt.strict)
            if fmt.type == "json_schema"
            else None,
        )
    return ChatCompletionRequest(
        model=body.model,
        messages=[],
        temperature=body.temperature,
        top_p=body.top_p,
        max_tokens=body.max_output_tokens,
        tools=tools,
        tool_choice=choice,
        response_format=response_format,
    )
