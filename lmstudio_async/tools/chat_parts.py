"""Chat messages of tool use: assistant tool-call parts and ``tool`` result messages.

Used by :class:`~lmstudio_async.chat.Chat` (``add_assistant_response``,
``add_tool_result(s)``); kept here so the chat module stays small. Results are
``toolCallResult`` parts, or dicts with ``content`` and an optional
``tool_call_id`` (or ``toolCallId``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import LMStudioValueError
from ..protocol import FunctionToolCallRequest, ToolCallRequestPart, ToolCallResultPart, ToolMessage

__all__ = ["ToolCallResultInput", "response_text", "tool_call_parts", "tool_result_message"]

#: A tool's answer: a ``ToolCallResultData`` or ``{"content": str, "tool_call_id": str}``.
ToolCallResultInput = ToolCallResultPart | Mapping[str, Any]


def response_text(response: object) -> object:
    """The text of a reply given as a string or as a prediction result (``.content``)."""
    if isinstance(response, str):
        return response
    content = getattr(response, "content", None)
    return content if isinstance(content, str) else response


def tool_call_parts(
    requests: Iterable[ToolCallRequestPart | FunctionToolCallRequest | Mapping[str, Any]],
) -> list[ToolCallRequestPart]:
    parts = []
    for request in requests:
        if isinstance(request, ToolCallRequestPart):
            parts.append(request)
        elif isinstance(request, FunctionToolCallRequest):
            parts.append(ToolCallRequestPart(tool_call_request=request))
        elif isinstance(request, Mapping) and isinstance(request.get("name"), str):
            call = FunctionToolCallRequest(
                name=request["name"], id=request.get("id"), arguments=request.get("arguments")
            )
            parts.append(ToolCallRequestPart(tool_call_request=call))
        else:
            raise LMStudioValueError(
                f"A tool call request is a ToolCallRequest or a dict with 'name', "
                f"'id' and 'arguments', not {request!r:.100}."
            )
    return parts


def _result_part(result: ToolCallResultInput) -> ToolCallResultPart:
    if isinstance(result, ToolCallResultPart):
        return result
    if isinstance(result, Mapping):
        content = result.get("content")
        call_id = result.get("tool_call_id", result.get("toolCallId"))
        if isinstance(content, str) and (call_id is None or isinstance(call_id, str)):
            return ToolCallResultPart(content=content, tool_call_id=call_id)
    raise LMStudioValueError(
        "A tool result is a ToolCallResultData or a dict with a 'content' string and an "
        f"optional 'tool_call_id' string, not {result!r:.100}."
    )


def tool_result_message(results: Iterable[ToolCallResultInput]) -> ToolMessage:
    parts = [_result_part(result) for result in results]
    if not parts:
        raise LMStudioValueError("add_tool_results needs at least one result.")
    return ToolMessage(content=parts)
