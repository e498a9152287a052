"""Collecting the tool calls a prediction produces, from its ``toolCallGeneration*`` packets.

A prediction stream hands every tool-call packet to its :class:`ToolCallCollector`.
Only ``toolCallGenerationEnd`` (a complete, parsed request) and
``toolCallGenerationFailed`` (the model wrote something that is not a valid
call) matter for results; the start, name and argument-fragment packets show
progress and are counted.
"""

from __future__ import annotations

from ..protocol import (
    FunctionToolCallRequest,
    ToolCallGenerationArgumentFragmentGenerated,
    ToolCallGenerationEnd,
    ToolCallGenerationFailed,
    ToolCallGenerationNameReceived,
    ToolCallGenerationStart,
)

__all__ = ["TOOL_CALL_PACKETS", "ToolCallCollector"]

TOOL_CALL_PACKETS = (
    ToolCallGenerationStart,
    ToolCallGenerationNameReceived,
    ToolCallGenerationArgumentFragmentGenerated,
    ToolCallGenerationEnd,
    ToolCallGenerationFailed,
)


class ToolCallCollector:
    __slots__ = ("errors", "requests", "started")

    def __init__(self) -> None:
        #: The complete requests, in the order the model made them.
        self.requests: list[FunctionToolCallRequest] = []
        #: One message per call the model failed to write correctly.
        self.errors: list[str] = []
        #: How many calls the model started.
        self.started = 0

    def handle(
        self,
        packet: ToolCallGenerationStart
        | ToolCallGenerationNameReceived
        | ToolCallGenerationArgumentFragmentGenerated
        | ToolCallGenerationEnd
        | ToolCallGenerationFailed,
    ) -> None:
        if isinstance(packet, ToolCallGenerationEnd):
            self.requests.append(packet.tool_call_request)
        elif isinstance(packet, ToolCallGenerationFailed):
            detail = packet.error.cause or packet.error.title
            raw = f" (it wrote {packet.raw_content[:200]!r})" if packet.raw_content else ""
            self.errors.append(f"Failed to parse tool call request: {detail}{raw}")
        elif isinstance(packet, ToolCallGenerationStart):
            self.started += 1
