"""What every prediction route reports from a finished prediction: ids, finish reason, usage."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

from ..._version import __version__
from ...protocol import LlmPredictionStats
from ..state import ServerState
from .running import PredictionResult

__all__ = ["new_id", "now", "finish_reason", "usage", "v0_extras", "STOP_REASONS_AS_LENGTH"]

_ID_ALPHABET = string.ascii_lowercase + string.digits
STOP_REASONS_AS_LENGTH = frozenset({"maxPredictedTokensReached", "contextLengthReached"})


def new_id(prefix: str, length: int = 21) -> str:
    """``prefix`` + ``length`` random ``[a-z0-9]``, the form of LM Studio's ids (REST.md 5.2)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def finish_reason(stats: LlmPredictionStats, tool_calls: bool) -> str:
    if tool_calls:
        return "tool_calls"
    if stats.stop_reason in STOP_REASONS_AS_LENGTH:
        return "length"
    return "stop"


def usage(stats: LlmPredictionStats) -> dict[str, int]:
    prompt = stats.prompt_tokens_count or 0
    completion = stats.predicted_tokens_count or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def v0_extras(state: ServerState, result: PredictionResult) -> dict[str, Any]:
    """The ``stats``, ``model_info`` and ``runtime`` that ``/api/v0`` bodies add (REST.md 9.2)."""
    stats = result.stats
    info = result.instance.info
    total = stats.total_time_sec or 0.0
    first = stats.time_to_first_token_sec or 0.0
    engine = state.models.engine.name
    return {
        "stats": {
            "tokens_per_second": stats.tokens_per_second or 0.0,
            "time_to_first_token": first,
            "generation_time": max(0.0, total - first),
            "stop_reason": stats.stop_reason,
        },
        "model_info": {
            "arch": info.architecture or "",
            "quant": info.quantization.name if info.quantization else "",
            "format": info.format,
            "context_length": result.instance.model.context_length,
        },
        "runtime": {
            "name": f"lmstudio-async-{engine}",
            "version": __version__,
            "supported_formats": [info.format],
        },
    }
