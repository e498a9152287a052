"""Engine tool-call events as LM Studio's ``toolCallGeneration*`` packets, with fault injection.

The ``tool-calls`` fault (see :mod:`..faults`) rewrites the calls an engine
produces, whatever the engine: ``malformed`` turns each call into a
``toolCallGenerationFailed`` (the model wrote something that is not a call),
``unknown-tool`` renames it to a tool that was not offered.
"""

from __future__ import annotations

from typing import Any

from ...protocol import (
    FunctionToolCallRequest,
    SerializedLMSExtendedError,
    ToolCallGenerationArgumentFragmentGenerated,
    ToolCallGenerationEnd,
    ToolCallGenerationFailed,
    ToolCallGenerationNameReceived,
    ToolCallGenerationStart,
)
from ..engines.tools import (
    ToolCallArgumentsFragment,
    ToolCallEvent,
    ToolCallFailed,
    ToolCallFinished,
    ToolCallNamed,
    ToolCallStarted,
)

__all__ = ["tool_call_packet", "UNKNOWN_TOOL_NAME"]

#: The name the ``unknown-tool`` fault gives every call.
UNKNOWN_TOOL_NAME = "no_such_tool"
_MALFORMED_RAW = '<tool_call>{"name": "'


def _faulty(event: ToolCallEvent, fault: str | None) -> ToolCallEvent:
    if fault == "unknown-tool":
        if isinstance(event, ToolCallNamed):
            return ToolCallNamed(UNKNOWN_TOOL_NAME)
        if isinstance(event, ToolCallFinished):
            return ToolCallFinished(event.call_id, UNKNOWN_TOOL_NAME, event.arguments, event.raw)
    elif fault == "malformed" and isinstance(event, ToolCallFinished):
        return ToolCallFailed("The tool call is not valid JSON.", _MALFORMED_RAW + event.name)
    return event


def tool_call_packet(event: ToolCallEvent, fault: str | None = None) -> Any:
    """The packet for ``event`` (``fault``: the active ``tool-calls`` fault, if any)."""
    event = _faulty(event, fault)
    if isinstance(event, ToolCallStarted):
        return ToolCallGenerationStart(tool_call_id=event.call_id)
    if isinstance(event, ToolCallNamed):
        return ToolCallGenerationNameReceived(name=event.name)
    if isinstance(event, ToolCallArgumentsFragment):
        return ToolCallGenerationArgumentFragmentGenerated(content=event.text)
    if isinstance(event, ToolCallFinished):
        request = FunctionToolCallRequest(
            id=event.call_id, name=event.name, arguments=event.arguments
        )
        return ToolCallGenerationEnd(tool_call_request=request, raw_content=event.raw)
    error = SerializedLMSExtendedError(title="Failed to parse tool call", cause=event.message)
    return ToolCallGenerationFailed(error=error, raw_content=event.raw)
