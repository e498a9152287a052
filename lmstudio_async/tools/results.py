"""The results of tool use: ``act()``'s summary and rounds, tool calls and their answers.

The official SDK's names, mapped onto this SDK's wire types: a
``ToolCallRequest`` is the wire ``FunctionToolCallRequest`` (``id``, ``name``,
``arguments``), a ``ToolCallResultData`` the ``toolCallResult`` part
(``content``, ``tool_call_id``), a ``ToolResultMessage`` the ``tool`` message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..prediction import PredictionResult
from ..protocol import FunctionToolCallRequest, ToolCallResultPart, ToolMessage

__all__ = [
    "ActResult",
    "PredictionRoundResult",
    "ToolCallRequest",
    "ToolCallResultData",
    "ToolResultMessage",
]

ToolCallRequest = FunctionToolCallRequest
ToolCallResultData = ToolCallResultPart
ToolResultMessage = ToolMessage


@dataclass(frozen=True)
class ActResult:
    """How an ``act()`` call went: how many prediction rounds it ran, and how long it took."""

    rounds: int
    total_time_seconds: float


@dataclass
class PredictionRoundResult(PredictionResult):
    """The result of one prediction round of ``act()``; ``round_index`` counts from 0."""

    round_index: int = 0

    @classmethod
    def from_result(cls, result: PredictionResult, round_index: int) -> PredictionRoundResult:
        values = {f.name: getattr(result, f.name) for f in fields(PredictionResult) if f.init}
        return cls(**values, round_index=round_index)
